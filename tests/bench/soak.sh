#!/usr/bin/env bash
# Soak: examples/visits up with healthchecks every second (an override file
# sets interval 1s on redis and adds a printing probe to web), for
# SOAK_SECONDS (default 600), the page fetched once a second. Every
# SOAK_EVERY seconds (default 30) it samples, per container, the monitor's
# CPU time, RSS and child processes and the container's pids (its cgroup),
# then prints the first and last samples and their growth. Exits non-zero
# when pids or monitor children grow, or a zombie shows up: a probe that is
# not reaped, or a probe loop, shows here within seconds.
#
# Run by `cargo xtask bench`. Needs root; runs in a network and mount
# namespace of its own, traffic on loopback only. STACK_BIN picks a
# prebuilt binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
seconds=${SOAK_SECONDS:-600}
every=${SOAK_EVERY:-30}

if [ -z "${STACK_BIN:-}" ]; then
    cargo build --release --quiet -p stack-cli
    STACK_BIN=$target/release/stack
fi
if [[ $(id -u) != 0 ]]; then
    echo "soak: needs root (namespaces, cgroups); skipped" >&2
    exit 0
fi
if [ "${STACK_BENCH_INSIDE:-}" != 1 ]; then
    export STACK_BIN
    exec unshare --net --mount --propagation private env STACK_BENCH_INSIDE=1 bash "$0" "$@"
fi
ip link set lo up
stack=$STACK_BIN
fx=$target/fixtures
bash tests/fixtures/build-images.sh "$fx"

work=$(mktemp -d)
pids=()
export STACK_ROOT=$work/root STACK_RUN=$work/run STACK_CONFIG=$work/config.toml
export STACK_CGROUP_PARENT=stack-soak-$$
cleanup() {
    "$stack" -f "$work/visits/compose.yaml" -f "$work/visits/soak.yaml" down -t 0 >/dev/null 2>&1 || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    find /sys/fs/cgroup -maxdepth 3 -type d -name "$STACK_CGROUP_PARENT" -exec rmdir {} + 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

source tests/bench/local-registry.sh
start_local_registry
skopeo copy --quiet --dest-tls-verify=false "oci:$fx/busybox:1" "docker://127.0.0.1:$port/library/busybox:latest"
skopeo copy --quiet --dest-tls-verify=false "oci:$fx/redis:7" "docker://127.0.0.1:$port/library/redis:latest"
cat >"$STACK_CONFIG" <<CONF
registry-mirrors = ["http://127.0.0.1:$port"]
insecure-registries = ["127.0.0.1:$port"]
CONF

cp -r examples/visits "$work/visits"
cat >"$work/visits/soak.yaml" <<'YAML'
services:
  redis:
    healthcheck:
      interval: 1s
  web:
    restart: unless-stopped
    healthcheck:
      test: ["CMD-SHELL", "echo probing; wget -q -O - http://127.0.0.1:8080/ >/dev/null"]
      interval: 1s
      timeout: 2s
YAML
files=(-f "$work/visits/compose.yaml" -f "$work/visits/soak.yaml")
"$stack" "${files[@]}" up -d --wait >"$work/up.log" 2>&1 || { cat "$work/up.log"; exit 1; }

# One line per container: name monitor-cpu-ticks monitor-rss-kib
# monitor-children zombies container-pids.
sample() {
    python3 - "$STACK_ROOT/containers" <<'PY'
import glob, json, os, sys
for state_file in sorted(glob.glob(os.path.join(sys.argv[1], "*", "state.json"))):
    d = os.path.dirname(state_file)
    state = json.load(open(state_file))
    spec = json.load(open(os.path.join(d, "config.json")))
    mon = state.get("monitor_pid")
    if not mon:
        continue
    stat = open(f"/proc/{mon}/stat").read().rsplit(")", 1)[1].split()
    ticks = int(stat[11]) + int(stat[12])
    rss = next(int(l.split()[1]) for l in open(f"/proc/{mon}/status") if l.startswith("VmRSS:"))
    children = zombies = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            s = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(s[1]) == mon:
            children += 1
            zombies += s[0] == "Z"
    cg = spec["cgroup_path"]
    pids = "?"
    for base in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
        f = os.path.join(base, cg, "pids.current")
        if os.path.exists(f):
            pids = open(f).read().strip()
            break
    print(spec["name"], ticks, rss, children, zombies, pids)
PY
}

web_port=8080
fetches=0 failures=0
start=$(date +%s)
sample >"$work/first.txt"
: >"$work/series.txt"
next=$((start + every))
while (( $(date +%s) - start < seconds )); do
    if curl -fsS "http://127.0.0.1:$web_port/cgi-bin/visits" >/dev/null 2>&1; then
        fetches=$((fetches + 1))
    else
        failures=$((failures + 1))
    fi
    if (( $(date +%s) >= next )); then
        sample | sed "s/^/$(( $(date +%s) - start ))s /" >>"$work/series.txt"
        next=$((next + every))
    fi
    sleep 1
done
sample >"$work/last.txt"
elapsed=$(( $(date +%s) - start ))
hz=$(getconf CLK_TCK)
echo "soak: ${elapsed}s, page fetched $fetches times, $failures failures"
python3 - "$work/first.txt" "$work/last.txt" "$elapsed" "$hz" <<'PY'
import sys
first = {l.split()[0]: l.split()[1:] for l in open(sys.argv[1])}
last = {l.split()[0]: l.split()[1:] for l in open(sys.argv[2])}
elapsed, hz = int(sys.argv[3]), int(sys.argv[4])
bad = False
print(f"{'container':<16} {'monitor CPU':>12} {'RSS KiB':>15} {'children':>9} {'zombies':>8} {'pids':>9}")
for name, (t0, r0, c0, z0, p0) in sorted(first.items()):
    t1, r1, c1, z1, p1 = last.get(name, (t0, r0, c0, z0, p0))
    cpu = (int(t1) - int(t0)) / hz / elapsed * 100
    print(f"{name:<16} {cpu:>11.2f}% {r0:>7}->{r1:<7} {c0:>4}->{c1:<4} {z1:>8} {p0:>4}->{p1:<4}")
    # A probe may be running at either sample: allow one either way.
    if int(z1) > 0 or int(c1) > int(c0) + 1 or (p0 != "?" and int(p1) > int(p0) + 1):
        bad = True
if bad:
    print("soak: growth or zombies found")
    sys.exit(1)
PY
echo "samples every ${every}s:"
cat "$work/series.txt"
