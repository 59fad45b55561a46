#!/usr/bin/env bash
# Memory of the per-container monitors: 20 idle busybox containers without a
# healthcheck, then 20 with a healthcheck every second, each monitor's PSS
# read from /proc/<pid>/smaps_rollup (PSS shares the binary's common pages
# fairly between the processes that map them). Goal: < 0.5 MiB per
# container. Run by `cargo xtask bench` (or `just bench`); needs root. All
# state lives in a temporary root, in a private network and mount namespace.
#   STACK_BIN=path   measure that binary instead of a fresh release build
#   COUNT=n          containers per round (default 20)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
count=${COUNT:-20}

if [[ -z "${STACK_BIN:-}" ]]; then
    cargo build --release --quiet -p stack-cli
    STACK_BIN=$target/release/stack
fi
if [[ $(id -u) != 0 ]]; then
    echo "monitor-memory: needs root (namespaces, cgroups); skipped" >&2
    exit 0
fi
if [[ -z "${STACK_BENCH_INSIDE:-}" ]]; then
    exec env STACK_BENCH_INSIDE=1 STACK_BIN="$STACK_BIN" unshare --net --mount --propagation private "$0" "$@"
fi

work=$(mktemp -d)
export STACK_ROOT=$work/root STACK_RUN=$work/run STACK_CONFIG=$work/none.toml
export STACK_CGROUP_PARENT=stack-bench-$$
: >"$STACK_CONFIG"
rootfs=$work/busybox
mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in sh sleep true cat; do ln -s busybox "$rootfs/bin/$applet"; done

cleanup() {
    for id in $("$STACK_BIN" container ls -a -q 2>/dev/null); do
        "$STACK_BIN" container rm --force "$id" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# Sum of the monitors' PSS (KiB) and their CPU ticks, from state.json.
measure() {
    python3 - "$STACK_ROOT/containers" <<'PY'
import glob, json, os, sys
pss = ticks = n = 0
for state in glob.glob(os.path.join(sys.argv[1], "*", "state.json")):
    pid = json.load(open(state)).get("monitor_pid")
    if not pid:
        continue
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("Pss:"):
            pss += int(line.split()[1])
    stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks += int(stat[11]) + int(stat[12])
    n += 1
print(n, pss, ticks)
PY
}

round() {
    local label=$1
    shift
    for i in $(seq "$count"); do
        "$STACK_BIN" run -d --name "$label-$i" "$@" --rootfs "$rootfs" sleep 100000 >/dev/null
    done
    sleep 3
    read -r n pss0 ticks0 < <(measure)
    sleep 5
    read -r n pss ticks < <(measure)
    local hz
    hz=$(getconf CLK_TCK)
    python3 - "$label" "$n" "$pss" "$((ticks - ticks0))" "$hz" <<'PY'
import sys
label, n, pss, ticks, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
per = pss / n / 1024
cpu = ticks / hz / 5 / n * 100
print(f"{label:<22} {n:>3} monitors  PSS {pss/1024:6.2f} MiB total  {per:5.3f} MiB/container  CPU {cpu:5.2f}% per monitor (5 s)")
PY
    for i in $(seq "$count"); do
        "$STACK_BIN" container rm --force "$label-$i" >/dev/null
    done
}

echo "monitor memory, $count idle containers per round ($STACK_BIN)"
round idle
round health-every-1s --health-cmd true --health-interval 1s
