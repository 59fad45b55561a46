//! Support for privileged tests (DESIGN.md, test tier 2).
//!
//! A privileged test calls [`sandbox`] first. On the first call the test
//! binary re-runs itself, for this one test only, under
//! `unshare --net --mount --propagation private`, so everything the test
//! makes (links, firewall rules, mounts) lives in namespaces that vanish with
//! it and tests run in parallel without touching the host. Inside, `sandbox`
//! returns a [`Sandbox`] with a temporary state root, runtime dir, config file
//! and cgroup parent; outside it returns `None` once the inner run has passed
//! (and panics if it failed).
//!
//! ```no_run
//! #[test]
//! fn makes_a_bridge() {
//!     let Some(sb) = stack_testkit::sandbox() else { return };
//!     // ... work as root in a private netns + mountns ...
//!     sb.assert_no_leaks();
//! }
//! ```
//!
//! Without root the test is skipped with one line, unless
//! `STACK_TEST_PRIVILEGED=1` (CI sets it), where a missing privilege fails.
//!
//! With `STACK_TEST_VIA_DAEMON=1` the sandbox's `stack` commands go through
//! a daemon of the sandbox's own (see [`via_daemon`]).

pub mod hostile;
mod leaks;
pub mod registry;
mod sandbox;
pub mod tarball;
pub mod via_daemon;

pub use leaks::Leak;
pub use sandbox::{sandbox, Sandbox};
