//! Load + normalize a generated 1000-service stack file that uses anchors,
//! merge keys and interpolation. The generated file is also written to the
//! target directory so peak memory can be measured on the binary:
//! `/usr/bin/time -v stack -f <that file> config -q`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use stack_spec::{load, output, LoadOptions};

const SERVICES: usize = 1000;

/// A stack of `n` services: shared settings via an anchor and `<<`, images
/// and ports via `${VAR:-default}`, each service depending on the previous.
fn generate(n: usize) -> String {
    let mut s = String::from(
        "x-common: &common\n  restart: unless-stopped\n  environment: &env\n    TZ: ${TZ:-UTC}\n    LOG: ${LOG_LEVEL:-info}\n  healthcheck:\n    test: [CMD, true]\n    interval: 10s\n  deploy:\n    resources:\n      limits: {cpus: \"0.5\", memory: 64m}\nservices:\n",
    );
    for i in 0..n {
        let _ = write!(
            s,
            "  svc{i}:\n    <<: *common\n    image: ${{REGISTRY:-registry.local}}/app{i}:${{TAG:-1.0}}\n    ports: [\"${{BIND:-127.0.0.1}}:{}:80\"]\n    environment:\n      <<: *env\n      INDEX: \"{i}\"\n    volumes: [\"data{i}:/data\", \"./conf:/etc/app:ro\"]\n",
            20000 + i
        );
        if i > 0 {
            let _ = writeln!(s, "    depends_on: [svc{}]", i - 1);
        }
    }
    s.push_str("volumes:\n");
    for i in 0..n {
        let _ = writeln!(s, "  data{i}: {{}}");
    }
    s
}

fn write_fixture() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench1000");
    std::fs::create_dir_all(&dir).expect("bench directory");
    let file = dir.join("compose.yaml");
    std::fs::write(&file, generate(SERVICES)).expect("write bench stack file");
    file
}

fn bench_load(c: &mut Criterion) {
    let file = write_fixture();
    eprintln!("generated stack file: {}", file.display());
    let opts = LoadOptions {
        files: vec![file.clone()],
        working_dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
        environment: BTreeMap::from([("TAG".to_string(), "2.0".to_string())]),
        ..LoadOptions::default()
    };
    let project = load(&opts).expect("generated file loads");
    assert_eq!(project.services.len(), SERVICES);
    c.bench_function("load+normalize 1000 services", |b| {
        b.iter(|| {
            let p = load(&opts).expect("loads");
            std::hint::black_box(p.graph().map(|g| g.waves().len()).unwrap_or(0));
            std::hint::black_box(output::to_json(&p).len())
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench_load
}
criterion_main!(benches);
