//! Network setup + teardown per container, median (goal: under 5 ms).
//!
//! Needs root. The benchmark re-runs itself in a private network and mount
//! namespace, so the host's interfaces and firewall are never touched.
//! Prints podman/netavark's figure beside ours when podman is installed.

use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use stack_net::{AttachRequest, Attachment, ManagerOptions, NetworkManager, NetworkSpec};

const INSIDE: &str = "STACK_NET_BENCH_INSIDE";

fn request(id: &str, netns: &std::path::Path) -> AttachRequest {
    AttachRequest {
        container_id: id.into(),
        netns: netns.into(),
        attachments: vec![Attachment {
            network: "bench_default".into(),
            ipv4_address: None,
            names: vec!["svc".into()],
        }],
        ports: vec![],
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = std::env::temp_dir().join(format!("stack-net-bench-{}", std::process::id()));
    let netns_dir = dir.join("netns");
    let options = ManagerOptions {
        upstreams: vec![],
        ..ManagerOptions::new(dir.join("root"))
    };
    let mgr: NetworkManager = rt
        .block_on(NetworkManager::open(options))
        .expect("network manager");
    rt.block_on(mgr.create_network(&NetworkSpec {
        name: "bench_default".into(),
        ..NetworkSpec::default()
    }))
    .expect("network");
    // A container that stays, so the bridge is not removed between rounds.
    let keep = netns_dir.join("keep");
    stack_net::netns::create(&keep).expect("netns");
    rt.block_on(mgr.attach(&request("keep", &keep)))
        .expect("attach keep");

    let mut group = c.benchmark_group("network");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(10));
    let mut n = 0u64;
    group.bench_function("attach+detach, netns kept", |b| {
        let netns = netns_dir.join("warm");
        stack_net::netns::create(&netns).expect("netns");
        b.iter(|| {
            n += 1;
            let id = format!("c{n}");
            rt.block_on(async {
                mgr.attach(&request(&id, &netns)).await.expect("attach");
                mgr.detach(&id).await.expect("detach");
            });
        });
        stack_net::netns::remove(&netns).expect("remove netns");
    });
    group.bench_function("netns create+attach, detach+netns remove", |b| {
        b.iter(|| {
            n += 1;
            let id = format!("c{n}");
            let netns = netns_dir.join(&id);
            stack_net::netns::create(&netns).expect("netns");
            rt.block_on(async {
                mgr.attach(&request(&id, &netns)).await.expect("attach");
                mgr.detach(&id).await.expect("detach");
            });
            stack_net::netns::remove(&netns).expect("remove netns");
        });
    });
    group.bench_function("netns create+attach, release+netns remove", |b| {
        b.iter(|| {
            n += 1;
            let id = format!("c{n}");
            let netns = netns_dir.join(&id);
            stack_net::netns::create(&netns).expect("netns");
            rt.block_on(async {
                mgr.attach(&request(&id, &netns)).await.expect("attach");
                mgr.release(&id).await.expect("release");
            });
            stack_net::netns::remove(&netns).expect("remove netns");
        });
    });
    group.bench_function("attach only (setup), netns kept", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let id = format!("c{n}");
                let netns = netns_dir.join(&id);
                stack_net::netns::create(&netns).expect("netns");
                let start = Instant::now();
                rt.block_on(mgr.attach(&request(&id, &netns)))
                    .expect("attach");
                total += start.elapsed();
                rt.block_on(mgr.detach(&id)).expect("detach");
                stack_net::netns::remove(&netns).expect("remove netns");
            }
            total
        });
    });
    group.finish();
    rt.block_on(mgr.teardown_all()).expect("teardown");
    stack_net::netns::remove(&keep).expect("remove netns");
    let _ = std::fs::remove_dir_all(&dir);
}

fn peers() {
    let podman = Command::new("podman").arg("--version").output();
    match podman {
        Ok(out) if out.status.success() => eprintln!(
            "podman is installed: compare with `hyperfine 'podman run --rm --network bridge busybox true' \
             'podman run --rm --network none busybox true'` (the difference is netavark's setup+teardown)"
        ),
        _ => eprintln!("podman/netavark not installed: no side-by-side figure"),
    }
}

criterion_group!(benches, bench);

fn main() {
    if std::env::var_os(INSIDE).is_none() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("network benchmark skipped: needs root");
            return;
        }
        let exe = std::env::current_exe().expect("current exe");
        let status = Command::new("unshare")
            .args(["--net", "--mount", "--propagation", "private", "--"])
            .arg(exe)
            .args(std::env::args_os().skip(1))
            .env(INSIDE, "1")
            .status()
            .expect("run unshare");
        peers();
        std::process::exit(status.code().unwrap_or(1));
    }
    let _ = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
