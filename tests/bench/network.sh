#!/usr/bin/env bash
# Network setup + teardown per container, side by side:
#   stack run --rm --rootfs BUSYBOX true                  (the default bridge network)
#   stack run --rm --network none --rootfs BUSYBOX true   (loopback only)
#   podman run --rm --network bridge|none busybox true    (when podman is installed)
# The difference of the medians is what connecting one container costs:
# namespace file, veth, address, DNS registration, /etc files, release.
# Everything runs inside a fresh network + mount namespace, so the host's
# interfaces and firewall are never touched. Run by `cargo xtask bench`
# (or `just bench`); `BENCH_RUNS` sets the number of runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}

if [ "${STACK_BENCH_INSIDE:-}" != 1 ]; then
    cargo build --release --quiet -p stack-cli
    exec unshare --net --mount --propagation private env STACK_BENCH_INSIDE=1 bash "$0" "$@"
fi

ip link set lo up
stack=$target/release/stack
work=$(mktemp -d)
cleanup() {
    STACK_ROOT=$work/root STACK_RUN=$work/run STACK_CONFIG=$work/empty.toml \
        "$stack" network prune >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
: >"$work/empty.toml"

# A busybox rootfs (busybox-static), as the test fixtures make it.
rootfs=$work/busybox
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/true"
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"

env="STACK_ROOT=$work/root STACK_RUN=$work/run STACK_CONFIG=$work/empty.toml STACK_CGROUP_PARENT=stack-bench"
# The first run makes the default network; later runs only connect.
env $env "$stack" run --rm --rootfs "$rootfs" true

commands=(
    --command-name "stack bridge" "env $env $stack run --rm --rootfs $rootfs true"
    --command-name "stack none" "env $env $stack run --rm --network none --rootfs $rootfs true"
)
if command -v podman >/dev/null; then
    tar -C "$rootfs" -cf "$work/busybox.tar" .
    podman import -q "$work/busybox.tar" localhost/bench-busybox >/dev/null
    podman network create bench-bridge >/dev/null 2>&1 || true
    commands+=(
        --command-name "podman bridge" "podman run --rm --network bench-bridge localhost/bench-busybox /bin/busybox true"
        --command-name "podman none" "podman run --rm --network none localhost/bench-busybox /bin/busybox true"
    )
fi
hyperfine -N --warmup 3 --runs "${BENCH_RUNS:-30}" --export-json "$work/result.json" "${commands[@]}"
if command -v podman >/dev/null; then
    podman network rm bench-bridge >/dev/null 2>&1 || true
fi
python3 - "$work/result.json" <<'PY'
import json, sys
m = {r["command"]: r["median"] * 1000 for r in json.load(open(sys.argv[1]))["results"]}
def line(engine):
    bridge, none = m.get(f"{engine} bridge"), m.get(f"{engine} none")
    if bridge is None or none is None:
        return
    print(f"{engine}: bridge {bridge:.1f} ms, none {none:.1f} ms median; "
          f"connecting costs {bridge - none:.1f} ms ({bridge / none:.2f}x)")
line("stack")
line("podman")
if "podman bridge" in m:
    print(f"stack bridge is {m['podman bridge'] / m['stack bridge']:.1f}x faster than podman bridge")
PY
