#!/usr/bin/env bash
# `up -d` and `down -t 0` of a generated 10- and 100-service busybox stack,
# side by side with Docker Compose v2 and podman-compose when installed:
#   stack up -d / down -t 0          (images through a local registry mirror)
#   docker compose up -d / down      (when `docker compose` or $COMPOSE_V2 works)
#   podman-compose up -d / down      (when podman-compose is installed)
# then the memory of stack's own processes (the per-container monitors) per
# container, as RSS and as PSS (shared pages split between the monitors).
#
# Run by `just bench`. Only loopback traffic. STACK_BIN picks a prebuilt
# binary; BENCH_SIZES (default "10 100") and BENCH_RUNS (default 5) tune it.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}

if [ -z "${STACK_BIN:-}" ]; then
    cargo build --release --quiet -p stack-cli
    STACK_BIN=$target/release/stack
fi
stack=$STACK_BIN
# Without a peer to compare with, run in a network namespace of the bench's
# own, so the stacks' bridges and firewall chains never touch the host (the
# peers' daemons live in the host's namespace, so with them it runs there,
# and `down` removes what `up` made).
if [ "${STACK_BENCH_INSIDE:-}" != 1 ] && ! command -v docker >/dev/null && ! command -v podman-compose >/dev/null; then
    export STACK_BIN
    exec unshare --net --mount --propagation private env STACK_BENCH_INSIDE=1 bash "$0" "$@"
fi
[ "${STACK_BENCH_INSIDE:-}" = 1 ] && ip link set lo up
fx=$target/fixtures
bash tests/fixtures/build-images.sh "$fx"

work=$(mktemp -d)
pids=()
export STACK_ROOT=$work/root STACK_RUN=$work/run STACK_CONFIG=$work/config.toml
export STACK_CGROUP_PARENT=stack-bench-$$
cleanup() {
    for size in ${BENCH_SIZES:-10 100}; do
        "$stack" -f "$work/s$size/compose.yaml" down -t 0 >/dev/null 2>&1 || true
    done
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    find /sys/fs/cgroup -maxdepth 3 -type d -name "$STACK_CGROUP_PARENT" -exec rmdir {} + 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

source tests/bench/local-registry.sh
start_local_registry
skopeo copy --quiet --dest-tls-verify=false "oci:$fx/busybox:1" "docker://127.0.0.1:$port/library/busybox:latest"
cat >"$STACK_CONFIG" <<CONF
registry-mirrors = ["http://127.0.0.1:$port"]
insecure-registries = ["127.0.0.1:$port"]
CONF

# generate DIR N: a stack of N services that sleep.
generate() {
    mkdir -p "$1"
    {
        echo "name: bench$2"
        echo "services:"
        for i in $(seq "$2"); do
            printf '  s%s:\n    image: ${IMAGE:-busybox}\n    command: ["sleep", "3600"]\n' "$i"
        done
    } >"$1/compose.yaml"
}

compose_v2=""
if [ -n "${COMPOSE_V2:-}" ]; then
    compose_v2=$COMPOSE_V2
elif docker compose version >/dev/null 2>&1; then
    compose_v2="docker compose"
fi
podman_compose=$(command -v podman-compose || true)

for size in ${BENCH_SIZES:-10 100}; do
    dir=$work/s$size
    generate "$dir" "$size"
    file=$dir/compose.yaml
    # Warm: the image is pulled once, outside the measurement.
    "$stack" -f "$file" up -d >"$work/warm.log" 2>&1 || { cat "$work/warm.log"; exit 1; }
    "$stack" -f "$file" down -t 0 >"$work/warm.log" 2>&1 || { cat "$work/warm.log"; exit 1; }
    commands=(
        --command-name "stack up -d ($size)" --prepare "$stack -f $file down -t 0"
        "$stack -f $file up -d"
        --command-name "stack down -t 0 ($size)" --prepare "$stack -f $file up -d"
        "$stack -f $file down -t 0"
    )
    if [ -n "$compose_v2" ]; then
        commands+=(
            --command-name "compose v2 up -d ($size)" --prepare "$compose_v2 -f $file down -t 0"
            "$compose_v2 -f $file up -d"
            --command-name "compose v2 down -t 0 ($size)" --prepare "$compose_v2 -f $file up -d"
            "$compose_v2 -f $file down -t 0"
        )
    fi
    if [ -n "$podman_compose" ]; then
        commands+=(
            --command-name "podman-compose up -d ($size)" --prepare "IMAGE=localhost/busybox $podman_compose -f $file down -t 0"
            "IMAGE=localhost/busybox $podman_compose -f $file up -d"
            --command-name "podman-compose down -t 0 ($size)" --prepare "IMAGE=localhost/busybox $podman_compose -f $file up -d"
            "IMAGE=localhost/busybox $podman_compose -f $file down -t 0"
        )
    fi
    hyperfine --runs "${BENCH_RUNS:-5}" --export-json "$work/result-$size.json" "${commands[@]}"
    [ -n "$compose_v2" ] && $compose_v2 -f "$file" down -t 0 >/dev/null 2>&1 || true
    [ -n "$podman_compose" ] && IMAGE=localhost/busybox $podman_compose -f "$file" down -t 0 >/dev/null 2>&1 || true

    # Memory of stack's own processes while the stack runs.
    "$stack" -f "$file" up -d >/dev/null 2>&1
    python3 - "$STACK_ROOT" "$size" <<'PY'
import json, os, sys
root, size = sys.argv[1], int(sys.argv[2])
rss = pss = n = 0
for cid in os.listdir(os.path.join(root, "containers")):
    try:
        state = json.load(open(os.path.join(root, "containers", cid, "state.json")))
        pid = state["monitor_pid"]
        for line in open(f"/proc/{pid}/smaps_rollup"):
            key, value = line.split(":", 1)
            if key == "Rss":
                rss += int(value.split()[0])
            elif key == "Pss":
                pss += int(value.split()[0])
        n += 1
    except (OSError, KeyError, TypeError, ValueError):
        pass
if n:
    print(f"stack memory with {size} containers: {rss / n / 1024:.2f} MiB RSS, "
          f"{pss / n / 1024:.2f} MiB PSS per container ({n} monitors)")
PY
    "$stack" -f "$file" down -t 0 >/dev/null 2>&1

    python3 - "$work/result-$size.json" "$size" <<'PY'
import json, sys
results = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
size = sys.argv[2]
for verb in ("up -d", "down -t 0"):
    ours = results.get(f"stack {verb} ({size})")
    if ours is None:
        continue
    print(f"stack {verb} ({size} services): median {ours*1000:.0f} ms")
    for peer in ("compose v2", "podman-compose"):
        theirs = results.get(f"{peer} {verb} ({size})")
        if theirs:
            print(f"  {peer}: {theirs*1000:.0f} ms, stack is {theirs/ours:.1f}x faster")
PY
done
