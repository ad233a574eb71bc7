#!/usr/bin/env bash
# Runs the end-to-end benchmark at full size: real kernel, real redis-server,
# the daemon against same-run baselines. Prints a table; writes JSON, an SVG
# latency CDF and the daemon's CPU profile to bench-out/. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
mkdir -p bench-out
go test ./test/e2ebench -run E2E -v -count=1 -timeout 30m -args -e2e.full \
	-e2e.json "$PWD/bench-out/results.json" -e2e.svg "$PWD/bench-out/latency-cdf.svg" \
	-e2e.cpuprofile "$PWD/bench-out/portsyncd.cpu.pprof" "$@" |
	grep -vE '^\s+time=|harness: log of' 
