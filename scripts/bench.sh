#!/usr/bin/env bash
# Runs the end-to-end benchmark at full size: real kernel, real redis-server,
# portsyncd against same-run baselines (the bare relay and, when it is there,
# SONiC's original C++ portsyncd). Prints a table and the issue's targets;
# writes JSON, an SVG latency CDF and the daemon's CPU profile to bench-out/.
# Needs root. Extra arguments go to the benchmark, e.g. -e2e.sustained=100000
# or -e2e.args="--gomaxprocs=2".
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
# CPP_PORTSYNCD: a directory holding a build of the original with its run.sh.
cpp=${CPP_PORTSYNCD:-../shared/anchors/cpp-portsyncd}
original=()
if [ -x "$cpp/run.sh" ]; then
	# Its libraries, installed here: run.sh runs inside the port namespace,
	# which has no route to the package mirrors.
	if ! ldconfig -p | grep -q 'libhiredis.so.0.14' || ! ldconfig -p | grep -q 'libnl-route-3.so.200'; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libhiredis0.14 libnl-3-200 libnl-route-3-200 >/dev/null
	fi
	original=(-e2e.cpp "$(cd "$cpp" && pwd)")
else
	echo "original C++ portsyncd not found at $cpp; skipped"
fi
mkdir -p bench-out
go test ./test/e2ebench -run E2E -v -count=1 -timeout 90m -args -e2e.full "${original[@]}" \
	-e2e.json "$PWD/bench-out/results.json" -e2e.svg "$PWD/bench-out/latency-cdf.svg" \
	-e2e.cpuprofile "$PWD/bench-out/portsyncd.cpu.pprof" "$@" |
	grep -vE '^\s+time=|harness: log of'
