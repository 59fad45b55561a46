#!/usr/bin/env bash
# Pull + unpack of the redis fixture from a local registry, side by side:
#   stack pull                      (download, verify, unpack into a snapshot)
#   skopeo copy + umoci unpack      (the same work with the reference tools)
#   podman pull                     (when podman is installed)
# Run by `cargo xtask bench` (or `just bench`). Prints hyperfine's table and
# the ratios. Only loopback traffic.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}

cargo build --release --quiet -p stack-cli
stack=$target/release/stack
fx=$target/fixtures
bash tests/fixtures/build-images.sh "$fx"

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

source tests/bench/local-registry.sh
start_local_registry
ref=127.0.0.1:$port/redis:7
skopeo copy --quiet --dest-tls-verify=false "oci:$fx/redis:7" "docker://$ref"
: >"$work/empty.toml"

commands=(
    --command-name "stack pull" --prepare "rm -rf $work/stack-root"
    "STACK_ROOT=$work/stack-root STACK_CONFIG=$work/empty.toml $stack pull -q $ref"
    --command-name "skopeo copy + umoci unpack" --prepare "rm -rf $work/oci $work/bundle"
    "skopeo copy --quiet --src-tls-verify=false docker://$ref oci:$work/oci:7 && umoci unpack --image $work/oci:7 $work/bundle >/dev/null"
)
if command -v podman >/dev/null; then
    commands+=(
        --command-name "podman pull" --prepare "podman --root $work/podman rmi -a -f >/dev/null 2>&1 || true"
        "podman --root $work/podman pull -q --tls-verify=false $ref >/dev/null"
    )
fi
hyperfine --warmup 1 --runs "${BENCH_RUNS:-10}" --export-json "$work/result.json" "${commands[@]}"
python3 - "$work/result.json" <<'PY'
import json, sys
results = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
ours = results["stack pull"]
for name, median in results.items():
    if name != "stack pull":
        print(f"stack pull is {median / ours:.2f}x faster than {name} (medians {ours*1000:.0f} ms vs {median*1000:.0f} ms)")
PY

# Unpack throughput alone (uncompressed MB/s), plain, gzip and zstd layers.
cargo bench --quiet -p stack-image --bench unpack -- "$fx/redis"
