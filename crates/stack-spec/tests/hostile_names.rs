//! Stack files written as attacks on the state root: names that would walk
//! out of `<root>/volumes` or `<root>/networks`, and address ranges the
//! host's rules refuse. Each is refused at its file, line and column.

use std::collections::BTreeMap;
use std::sync::Arc;

use stack_spec::{load, CheckError, Diagnostics, HostChecks, IpamPool, LoadOptions};

fn load_text(
    tag: &str,
    text: &str,
    checks: Option<Arc<dyn HostChecks>>,
) -> Result<(), Diagnostics> {
    let dir = std::env::temp_dir().join(format!("stack-spec-hostile-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("compose.yaml"), text).expect("write");
    let opts = LoadOptions {
        working_dir: dir.clone(),
        project_name: Some("demo".into()),
        environment: BTreeMap::new(),
        checks,
        ..LoadOptions::default()
    };
    let result = load(&opts).map(|_| ());
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn first_error(d: &Diagnostics) -> (String, u32, u32) {
    let e = d.errors.first().expect("one error");
    let loc = e.location.clone().expect("located");
    assert!(loc.file.ends_with("compose.yaml"), "{loc:?}");
    (e.message.clone(), loc.line, loc.column)
}

#[test]
fn volume_name_walking_out_of_the_state_root_is_refused() {
    let text = "services:\n  a:\n    image: busybox\n    volumes: [\"data:/d\"]\nvolumes:\n  data:\n    name: \"../../../../tmp/x\"\n";
    let d = load_text("vol", text, None).expect_err("refused");
    let (message, line, column) = first_error(&d);
    assert!(
        message.contains("invalid volume name \"../../../../tmp/x\""),
        "{message}"
    );
    assert_eq!((line, column), (7, 11));
}

#[test]
fn network_name_and_key_with_a_slash_are_refused() {
    let text = "services:\n  a:\n    image: busybox\nnetworks:\n  front:\n    name: ../etc\n  \"a/b\": {}\n";
    let d = load_text("net", text, None).expect_err("refused");
    let all = d.render_plain();
    assert!(all.contains("invalid network name \"../etc\""), "{all}");
    assert!(all.contains("invalid network name \"demo_a/b\""), "{all}");
    assert_eq!(d.errors.len(), 2, "{all}");
}

#[test]
fn external_volume_names_follow_the_same_rule() {
    let text = "services:\n  a:\n    image: busybox\nvolumes:\n  data:\n    external: true\n    name: ..\n";
    let d = load_text("ext", text, None).expect_err("refused");
    assert!(first_error(&d).0.contains("invalid volume name \"..\""));
}

/// Stands for stack-net's rule, which the engine passes in.
#[derive(Debug)]
struct NoDefaultRoute;

impl HostChecks for NoDefaultRoute {
    fn ipam_pool(&self, network: &str, pool: &IpamPool) -> Result<(), CheckError> {
        match pool.subnet.as_deref() {
            Some("0.0.0.0/0") => {
                Err(format!("network {network:?}: subnet 0.0.0.0/0 refused").into())
            }
            _ => Ok(()),
        }
    }
}

#[test]
fn host_checks_report_at_the_pool_entry() {
    let text = "services:\n  a:\n    image: busybox\nnetworks:\n  wide:\n    ipam:\n      config:\n        - subnet: 10.1.0.0/24\n        - subnet: 0.0.0.0/0\n";
    let d = load_text("pool", text, Some(Arc::new(NoDefaultRoute))).expect_err("refused");
    let (message, line, column) = first_error(&d);
    assert_eq!(message, "network \"demo_wide\": subnet 0.0.0.0/0 refused");
    assert_eq!((line, column), (9, 19));
    load_text("pool-ok", text, None).expect("without host checks only the loader's rules apply");
}
