#!/usr/bin/env bash
# Save-to-visible latency of `stack watch` (p50, p95 over WATCH_BENCH_EDITS
# edits, default 100): one file saved on the host, read back inside a
# running container. `cargo bench` (`just bench`) runs the same benchmark;
# this runs it alone. Needs root. No network traffic at all.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec cargo bench --quiet -p stack-cli --bench watch_latency "$@"
