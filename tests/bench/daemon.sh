#!/usr/bin/env bash
# The daemon's cost: its memory idle and with N running containers (and the
# monitors' memory per container), and the latency of listing containers
# over the API with N containers (curl over the socket, `stack container ls`
# through the daemon and in process). Goals (issue #7): under 30 MiB at 100
# containers; list under 5 ms. Run by `cargo xtask bench` (or `just bench`);
# N defaults to 100 (`N=20 bash tests/bench/daemon.sh`). Only loopback and
# private namespaces; everything it makes is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
n=${N:-100}

if [[ ${STACK_BENCH_DEBUG:-0} == 1 ]]; then
    [[ ${STACK_BENCH_INSIDE:-} == 1 ]] || cargo build --quiet -p stack-cli
    stack=$target/debug/stack
else
    [[ ${STACK_BENCH_INSIDE:-} == 1 ]] || cargo build --release --quiet -p stack-cli
    stack=$target/release/stack
fi
# The containers join the default bridge network: keep its bridge and
# firewall chains in a network namespace of the bench's own.
if [[ ${STACK_BENCH_INSIDE:-} != 1 ]]; then
    exec unshare --net --mount --propagation private env STACK_BENCH_INSIDE=1 bash "$0" "$@"
fi
ip link set lo up

work=$(mktemp -d)
export STACK_ROOT=$work/root STACK_RUN=$work/run STACK_CONFIG=$work/config.toml
export STACK_CGROUP_PARENT=stack/bench-daemon-$$
: >"$STACK_CONFIG"
daemon_pid=
cleanup() {
    set +e
    for id in $("$stack" --no-daemon container ls -a -q 2>/dev/null); do
        "$stack" --no-daemon container rm --force "$id" >/dev/null 2>&1
    done
    [[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    for h in /sys/fs/cgroup/*/"$STACK_CGROUP_PARENT" /sys/fs/cgroup/"$STACK_CGROUP_PARENT"; do
        [[ -d $h ]] && rmdir "$h" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

# A busybox root filesystem (busybox-static).
rootfs=$work/busybox
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in sh sleep true; do ln -s busybox "$rootfs/bin/$applet"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

"$stack" daemon --log-level warn --log-file "$work/daemon.log" &
daemon_pid=$!
sock=$STACK_RUN/stack.sock
for _ in $(seq 200); do curl -fsS --unix-socket "$sock" http://localhost/v1/_ping >/dev/null 2>&1 && break; sleep 0.05; done
sleep 1
idle=$(rss_kib "$daemon_pid")

for i in $(seq "$n"); do
    # Labelled as the replicas of a project's services, so `stack ps -p
    # bench` lists them as it lists a stack's containers.
    "$stack" --no-daemon run -d --name "bench-$i" --rootfs "$rootfs" \
        --label com.docker.compose.project=bench --label "com.docker.compose.service=s$i" \
        --label com.docker.compose.container-number=1 sleep 100000 >/dev/null
done
# Let the daemon notice them, and list them a few times.
sleep 2
for _ in $(seq 20); do curl -fsS --unix-socket "$sock" http://localhost/v1/containers >/dev/null; done
loaded=$(rss_kib "$daemon_pid")
monitors=0
for pid in $(pgrep -f -- "__stack-monitor $STACK_ROOT/" || true); do
    monitors=$((monitors + $(rss_kib "$pid")))
done
running=$(curl -fsS --unix-socket "$sock" http://localhost/v1/containers | grep -o '"status":"running"' | wc -l)

echo "daemon RSS idle:                 $(mib "$idle") MiB"
echo "daemon RSS with $running containers:  $(mib "$loaded") MiB   (goal < 30 MiB at 100)"
echo "monitors, all $running together:     $(mib "$monitors") MiB   ($(awk -v m="$monitors" -v n="$running" 'BEGIN {printf "%.0f", m / (n ? n : 1)}') KiB each)"
echo
hyperfine --warmup 5 --runs 50 -N \
    "curl -fsS --unix-socket $sock http://localhost/v1/containers" \
    "$stack container ls" \
    "$stack --no-daemon container ls" \
    "$stack -p bench ps" \
    "$stack --no-daemon -p bench ps" \
    --export-json "$work/list.json" 2>&1
median=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print('%.2f' % (r[0]['median']*1000))" "$work/list.json")
echo "curl GET /v1/containers with $running containers, process included: median $median ms"
# The request itself, without curl's own start-up (which is most of the
# above): curl's time from connecting to the last byte, over 100 requests.
for _ in $(seq 100); do
    curl -fsS -o /dev/null -w '%{time_total}\n' --unix-socket "$sock" http://localhost/v1/containers
done >"$work/request-times"
request=$(sort -n "$work/request-times" | awk '{a[NR] = $1} END {printf "%.2f", a[int((NR + 1) / 2)] * 1000}')
p95=$(sort -n "$work/request-times" | awk '{a[NR] = $1} END {printf "%.2f", a[int(NR * 0.95)] * 1000}')
echo "GET /v1/containers with $running containers, request only: median $request ms, p95 $p95 ms   (goal < 5 ms)"
for _ in $(seq 100); do
    curl -fsS -o /dev/null -w '%{time_total}\n' --unix-socket "$sock" http://localhost/v1/projects/bench/containers
done >"$work/ps-times"
request=$(sort -n "$work/ps-times" | awk '{a[NR] = $1} END {printf "%.2f", a[int((NR + 1) / 2)] * 1000}')
p95=$(sort -n "$work/ps-times" | awk '{a[NR] = $1} END {printf "%.2f", a[int(NR * 0.95)] * 1000}')
echo "GET /v1/projects/bench/containers (ps) with $running containers, request only: median $request ms, p95 $p95 ms   (goal < 5 ms)"
