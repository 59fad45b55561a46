#!/usr/bin/env bash
# The Docker Engine API side by side: the same docker CLI (and Compose v2)
# against `stack daemon`'s socket and against dockerd (Debian docker.io,
# installed by `cargo xtask bench --peers`), both in this bench's own
# network and mount namespace, their data on a tmpfs, busybox from a local
# registry that is both daemons' docker.io mirror. Measures:
#   docker run --rm --network none busybox true     (goal: >= 10x dockerd)
#   docker compose up -d / down -t 0, 10 services   (goal: >= 5x)
#   daemon memory with 50 containers started through the API (goal < 30 MiB)
# Only loopback and private namespaces; everything it makes goes on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
runs=${BENCH_RUNS:-10}

if [[ ${STACK_BENCH_INSIDE:-} != 1 ]]; then
    if ! command -v dockerd >/dev/null; then
        echo "docker-api bench: dockerd is not installed (cargo xtask bench --peers); skipped"
        exit 0
    fi
    cargo build --release --quiet -p stack-cli
    bash tests/fixtures/build-images.sh "$target/fixtures"
    exec unshare --net --mount --propagation private env STACK_BENCH_INSIDE=1 bash "$0" "$@"
fi
ip link set lo up
stack=$target/release/stack
fx=$target/fixtures
compose=$(python3 -c "import compose, os; print(os.path.join(os.path.dirname(compose.__file__), 'docker-compose'))")

work=$(mktemp -d)
mount -t tmpfs -o size=4g tmpfs "$work"
export STACK_CGROUP_PARENT=stack/bench-docker-api-$$
pids=()
stack_sock=$work/stack-run/stack.sock
docker_sock=$work/docker.sock
cleanup() {
    set +e
    for sock in "$stack_sock" "$docker_sock"; do
        ids=$(DOCKER_HOST=unix://$sock docker ps -aq 2>/dev/null)
        [[ -n $ids ]] && DOCKER_HOST=unix://$sock docker rm -f $ids >/dev/null 2>&1
    done
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    for h in /sys/fs/cgroup/*/"$STACK_CGROUP_PARENT" /sys/fs/cgroup/"$STACK_CGROUP_PARENT"; do
        [[ -d $h ]] && rmdir "$h" 2>/dev/null
    done
    umount -l "$work" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

source tests/bench/local-registry.sh
start_local_registry
skopeo copy --quiet --dest-tls-verify=false "oci:$fx/busybox:1" \
    "docker://127.0.0.1:$port/library/busybox:latest"

# stack daemon, the registry as its docker.io mirror.
export STACK_ROOT=$work/stack-root STACK_RUN=$work/stack-run STACK_CONFIG=$work/stack.toml
printf 'registry-mirrors = ["http://127.0.0.1:%s"]\ninsecure-registries = ["127.0.0.1:%s"]\n' \
    "$port" "$port" >"$STACK_CONFIG"
"$stack" daemon --log-level warn --log-file "$work/stack-daemon.log" &
stack_pid=$!
pids+=("$stack_pid")

# dockerd, the same mirror, no bridge or firewall of its own on the host.
cat >"$work/daemon.json" <<JSON
{"registry-mirrors": ["http://127.0.0.1:$port"], "insecure-registries": ["127.0.0.1:$port"],
 "iptables": false, "ip-forward": false, "ip-masq": false}
JSON
dockerd --config-file "$work/daemon.json" --data-root "$work/docker" \
    --exec-root "$work/docker-exec" --pidfile "$work/docker.pid" \
    -H "unix://$docker_sock" >"$work/dockerd.log" 2>&1 &
pids+=($!)

for sock in "$stack_sock" "$docker_sock"; do
    for _ in $(seq 300); do
        DOCKER_HOST=unix://$sock docker version >/dev/null 2>&1 && break
        sleep 0.1
    done
    DOCKER_HOST=unix://$sock docker pull -q busybox >/dev/null
done

export DOCKER_CONFIG=$work/docker-config
mkdir -p "$DOCKER_CONFIG"
on() { echo "DOCKER_HOST=unix://$1"; }

echo "== docker run --rm --network none busybox true"
hyperfine --warmup 2 --runs "$runs" --export-json "$work/run.json" \
    --command-name "stack daemon" "$(on "$stack_sock") docker run --rm --network none busybox true" \
    --command-name "dockerd" "$(on "$docker_sock") docker run --rm --network none busybox true"

# Ten services, each a `sleep` under an init, on the project's network.
mkdir -p "$work/ten"
{
    echo "services:"
    for i in $(seq 10); do
        printf '  s%s:\n    image: busybox\n    init: true\n    command: ["sleep", "100000"]\n' "$i"
    done
} >"$work/ten/compose.yaml"
up() { echo "$(on "$1") $compose -f $work/ten/compose.yaml -p ten up -d --quiet-pull"; }
down() { echo "$(on "$1") $compose -f $work/ten/compose.yaml -p ten down -t 0"; }
echo
echo "== docker compose up -d / down -t 0, 10 services"
hyperfine --runs "$runs" --export-json "$work/compose-up.json" \
    --command-name "stack daemon: up" --prepare "$(down "$stack_sock") >/dev/null 2>&1" \
    "$(up "$stack_sock") >/dev/null 2>&1" \
    --command-name "dockerd: up" --prepare "$(down "$docker_sock") >/dev/null 2>&1" \
    "$(up "$docker_sock") >/dev/null 2>&1"
hyperfine --runs "$runs" --export-json "$work/compose-down.json" \
    --command-name "stack daemon: down" --prepare "$(up "$stack_sock") >/dev/null 2>&1" \
    "$(down "$stack_sock") >/dev/null 2>&1" \
    --command-name "dockerd: down" --prepare "$(up "$docker_sock") >/dev/null 2>&1" \
    "$(down "$docker_sock") >/dev/null 2>&1"

echo
echo "== 50 containers through the API"
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
for i in $(seq 50); do
    DOCKER_HOST=unix://$stack_sock docker run -d --network none --name "m$i" busybox sleep 100000 >/dev/null
done
sleep 1
for _ in $(seq 5); do DOCKER_HOST=unix://$stack_sock docker ps >/dev/null; done
echo "stack daemon RSS with 50 containers: $(awk -v k="$(rss_kib "$stack_pid")" 'BEGIN {printf "%.1f", k / 1024}') MiB   (goal < 30 MiB)"

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def medians(name):
    return {r["command"]: r["median"] for r in json.load(open(f"{work}/{name}.json"))["results"]}
run = medians("run")
print(f"docker run --rm: stack {run['stack daemon']*1000:.0f} ms, dockerd {run['dockerd']*1000:.0f} ms: "
      f"{run['dockerd']/run['stack daemon']:.1f}x (goal >= 10x)")
for verb in ("up", "down"):
    m = medians(f"compose-{verb}")
    ours, theirs = m[f"stack daemon: {verb}"], m[f"dockerd: {verb}"]
    print(f"docker compose {verb}, 10 services: stack {ours*1000:.0f} ms, dockerd {theirs*1000:.0f} ms: "
          f"{theirs/ours:.1f}x (goal >= 5x)")
PY
