//! Unpack throughput of the redis fixture's layer (uncompressed MB/s),
//! for the tar, gzip and zstd forms. A plain timing harness: each run
//! unpacks into a fresh directory; the median of the runs is reported.
//!
//!     cargo bench -p stack-image --bench unpack -- target/fixtures/redis

use std::path::{Path, PathBuf};
use std::time::Instant;

use stack_image::unpack::unpack_layer;

const RUNS: usize = 7;

fn main() {
    let Some(layout) = std::env::args().skip(1).find(|a| !a.starts_with('-')) else {
        eprintln!("usage: unpack <OCI layout of the redis fixture>; skipped");
        return;
    };
    let layout = PathBuf::from(layout);
    let blobs = layout.join("blobs/sha256");
    let mut layers: Vec<PathBuf> = std::fs::read_dir(&blobs)
        .unwrap_or_else(|e| panic!("{}: {e}", blobs.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.metadata().map(|m| m.len() > 1_000_000).unwrap_or(false))
        .collect();
    layers.sort();
    let scratch = tempfile::tempdir_in(layout.parent().unwrap_or(Path::new("."))).expect("scratch");
    let plain = scratch.path().join("layer.tar");
    if let Some(first) = layers.first() {
        let mut out = std::fs::File::create(&plain).expect("plain layer");
        let (_, mut reader) =
            stack_image::unpack::decompress(std::fs::File::open(first).expect("layer"))
                .expect("decode");
        std::io::copy(&mut reader, &mut out).expect("decompress");
        layers.push(plain);
    }
    for layer in &layers {
        let bytes = std::fs::read(layer).expect("read layer");
        let mut times = Vec::new();
        let mut label = String::new();
        let mut tar_bytes = 0;
        for run in 0..RUNS {
            let dest = scratch.path().join(format!("run-{run}"));
            std::fs::create_dir(&dest).expect("dest");
            let start = Instant::now();
            let u = unpack_layer(&bytes[..], &dest, "bench").expect("unpack");
            times.push(start.elapsed().as_secs_f64());
            label = format!("{:?}", u.compression);
            tar_bytes = u.tar_bytes;
            std::fs::remove_dir_all(&dest).expect("cleanup");
        }
        times.sort_by(f64::total_cmp);
        let median = times[RUNS / 2];
        println!(
            "unpack {label:>5}: {:.1} MB tar in {:.0} ms (median of {RUNS}) = {:.0} MB/s",
            tar_bytes as f64 / 1e6,
            median * 1e3,
            tar_bytes as f64 / 1e6 / median
        );
    }
}
