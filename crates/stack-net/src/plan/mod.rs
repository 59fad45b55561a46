//! What a change to the networking must do, decided from the records alone.
//!
//! Every function here is pure: no netlink, no firewall, no files, no
//! clock. The manager loads the records, asks these functions for a plan,
//! carries the plan out through [`crate::links::Links`] and the firewall,
//! and stores the result. Keeping the decisions apart means they are tested
//! without root and without kernel objects, and the kernel-facing code is
//! left with nothing to decide.

pub mod attach;
pub mod network;
pub mod teardown;
