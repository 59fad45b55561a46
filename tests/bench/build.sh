#!/usr/bin/env bash
# Image builds, side by side in one run with BuildKit (Debian's docker.io:
# dockerd started here, in the bench's own network and mount namespace,
# its data on a temporary directory) and `buildah bud`, when installed.
# The same two-stage, 12-instruction Dockerfile on the fixture busybox
# (served as docker.io's library/busybox by a local registry mirror):
#   cold          every step run (--no-cache), the base image present
#   no-op         nothing changed: every step from the cache
#   one file      one copied file changed: the steps from that COPY on
# and the throughput of writing one big layer (COPY of 256 MiB).
#
# Run by `cargo xtask bench`. Only loopback traffic. STACK_BIN picks a
# prebuilt binary; BENCH_RUNS (default 10) tunes it.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}

if [ -z "${STACK_BIN:-}" ]; then
    cargo build --release --quiet -p stack-cli
    STACK_BIN=$target/release/stack
fi
stack=$STACK_BIN
if [ "${STACK_BENCH_INSIDE:-}" != 1 ]; then
    export STACK_BIN
    exec unshare --net --mount --propagation private env STACK_BENCH_INSIDE=1 bash "$0" "$@"
fi
ip link set lo up
fx=$target/fixtures
bash tests/fixtures/build-images.sh "$fx"

work=$(mktemp -d)
pids=()
export STACK_ROOT=$work/root STACK_RUN=$work/run STACK_CONFIG=$work/config.toml
export STACK_CGROUP_PARENT=stack-bench-$$
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    umount -R "$work/docker" 2>/dev/null || true
    find /sys/fs/cgroup -maxdepth 3 -type d -name "$STACK_CGROUP_PARENT" -exec rmdir {} + 2>/dev/null || true
    rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

source tests/bench/local-registry.sh
start_local_registry
skopeo copy --quiet --dest-tls-verify=false "oci:$fx/busybox:1" "docker://127.0.0.1:$port/library/busybox:latest"
cat >"$STACK_CONFIG" <<CONF
registry-mirrors = ["http://127.0.0.1:$port"]
insecure-registries = ["127.0.0.1:$port"]
CONF

# The context: sources for the first stage, static files for the second.
ctx=$work/ctx
mkdir -p "$ctx/src" "$ctx/static"
for i in $(seq 50); do echo "line $i" >"$ctx/src/f$i.txt"; done
for i in $(seq 200); do head -c 4096 /dev/urandom | base64 >"$ctx/static/s$i.txt"; done
cat >"$ctx/Dockerfile" <<'DF'
FROM busybox AS build
WORKDIR /src
COPY src/ ./
RUN cat *.txt > /out.txt && wc -l /out.txt > /count.txt
RUN echo built > /stamp
FROM busybox
ENV APP=/app
WORKDIR /app
COPY --from=build /out.txt /count.txt ./
COPY static/ static/
RUN ls -R /app > /app/manifest.txt
CMD ["cat", "/app/manifest.txt"]
DF
big=$work/big
mkdir -p "$big/data"
head -c $((256 << 20)) /dev/urandom >"$big/data/blob"
printf 'FROM busybox\nCOPY data/ /data/\n' >"$big/Dockerfile"

touch_one='date +%s%N > '"$ctx"'/static/s1.txt'
# name=command pairs per tool: the same build, done by each.
builders=("stack=$stack image build -q -t bench-app")

# BuildKit: Debian's dockerd and its own client (the newer CLI on the
# machine image needs the buildx plugin for BuildKit).
docker_cli=/usr/bin/docker
if command -v dockerd >/dev/null && [ -x "$docker_cli" ]; then
    mkdir -p "$work/docker/data" "$work/docker/exec"
    cat >"$work/docker/daemon.json" <<CONF
{"registry-mirrors": ["http://127.0.0.1:$port"], "insecure-registries": ["127.0.0.1:$port"]}
CONF
    dockerd --config-file "$work/docker/daemon.json" --data-root "$work/docker/data" \
        --exec-root "$work/docker/exec" --pidfile "$work/docker/pid" \
        --host "unix://$work/docker/sock" >"$work/docker/log" 2>&1 &
    pids+=($!)
    export DOCKER_HOST=unix://$work/docker/sock DOCKER_BUILDKIT=1
    for _ in $(seq 100); do "$docker_cli" version >/dev/null 2>&1 && break; sleep 0.2; done
    "$docker_cli" pull -q busybox >/dev/null
    builders+=("buildkit=$docker_cli build -q -t bench-app")
fi
if command -v buildah >/dev/null; then
    cat >"$work/registries.conf" <<CONF
unqualified-search-registries = ["docker.io"]
[[registry]]
prefix = "docker.io"
location = "127.0.0.1:$port"
insecure = true
CONF
    builders+=("buildah=buildah --root $work/buildah/root --runroot $work/buildah/run --registries-conf $work/registries.conf bud -q --layers -t bench-app")
fi

# run CASE PREPARE EXTRA-FLAGS: one hyperfine run of every builder.
run_case() {
    local case=$1 prepare=$2 flags=$3 commands=()
    for b in "${builders[@]}"; do
        commands+=(--command-name "${b%%=*} $case" "${b#*=} $flags $ctx")
    done
    local extra=()
    [ -n "$prepare" ] && extra=(--prepare "$prepare")
    hyperfine --runs "${BENCH_RUNS:-10}" --warmup 1 "${extra[@]}" \
        --export-json "$work/result-${case// /-}.json" "${commands[@]}"
}
run_case cold "" --no-cache
run_case no-op "" ""
run_case "one file" "$touch_one" ""

# One big layer: 256 MiB copied and written as a layer, every time.
start=$(date +%s%N)
"$stack" image build -q --no-cache -t bench-big "$big" >/dev/null
end=$(date +%s%N)
python3 -c "import sys; s=(int(sys.argv[2])-int(sys.argv[1]))/1e9; print(f'stack: a 256 MiB layer in {s:.2f} s: {256/s:.0f} MiB/s (COPY, tar, gzip, unpack)')" "$start" "$end"

python3 - "$work"/result-*.json <<'PY'
import json, sys
results = {}
for path in sys.argv[1:]:
    results.update({r["command"]: r["median"] for r in json.load(open(path))["results"]})
for case in ("cold", "no-op", "one file"):
    ours = results.get(f"stack {case}")
    if ours is None:
        continue
    print(f"stack build, {case}: median {ours*1000:.0f} ms")
    for peer in ("buildkit", "buildah"):
        theirs = results.get(f"{peer} {case}")
        if theirs:
            print(f"  {peer}: {theirs*1000:.0f} ms, stack is {theirs/ours:.1f}x faster")
PY
