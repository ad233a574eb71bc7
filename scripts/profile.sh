#!/usr/bin/env bash
# Profiles a running portsyncd: a Go CPU profile from its pprof endpoint
# (the daemon must run with --pprof; the endpoint is on --metrics-addr,
# loopback only) and, where perf works, a perf record of the process; prints
# the top entries of each. Run it where the daemon runs: in its network
# namespace (ip netns exec asic0 scripts/profile.sh) and, for perf, as root.
#
#   scripts/profile.sh [-a 127.0.0.1:9123] [-s 10] [-p PID] [-o DIR] [-n 25]
#
# -a  the daemon's --metrics-addr            -s  seconds to profile (under 30)
# -p  pid for perf (default: the only portsyncd, else perf is skipped)
# -o  where to keep the profiles (default: a new directory under /tmp)
# -n  how many entries to print
#
# Output: DIR/portsyncd.cpu.pprof (go tool pprof -http=:0 DIR/portsyncd.cpu.pprof
# for a flame graph) and DIR/perf.data (perf report -i DIR/perf.data).
set -euo pipefail

addr=127.0.0.1:9123 secs=10 pid= dir= top=25
while getopts a:s:p:o:n:h opt; do
	case $opt in
	a) addr=$OPTARG ;;
	s) secs=$OPTARG ;;
	p) pid=$OPTARG ;;
	o) dir=$OPTARG ;;
	n) top=$OPTARG ;;
	*) sed -n '2,17s/^# \{0,1\}//p' "$0"; [ "$opt" = h ] && exit 0; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { echo "profile.sh: unexpected argument $1 (-h for help)" >&2; exit 64; }
case $secs in '' | *[!0-9]*) echo "profile.sh: -s $secs: want whole seconds" >&2; exit 64 ;; esac
# pprof refuses a profile as long as the metrics server's write timeout (30 s).
if [ "$secs" -lt 1 ] || [ "$secs" -ge 30 ]; then echo "profile.sh: -s $secs: want 1 to 29" >&2; exit 64; fi
command -v curl >/dev/null || { echo "profile.sh: needs curl" >&2; exit 69; }
[ -n "$dir" ] || dir=$(mktemp -d /tmp/portsyncd-profile.XXXXXX)
mkdir -p "$dir"

# perf's pid: the only portsyncd, unless -p names one.
if [ -z "$pid" ]; then
	pids=$(pgrep -x portsyncd || true)
	if [ "$(printf '%s\n' "$pids" | grep -c .)" -eq 1 ]; then pid=$pids; fi
fi

perf_pid=
if [ -n "$pid" ] && command -v perf >/dev/null; then
	# Alongside the Go profile, same window: cpu-clock, since hardware
	# cycles are often missing in VMs and containers.
	perf record -e cpu-clock -g -p "$pid" -o "$dir/perf.data" -- sleep "$secs" >"$dir/perf.log" 2>&1 &
	perf_pid=$!
fi

echo "== Go CPU profile of $addr for ${secs}s"
code=$(curl -sS -o "$dir/portsyncd.cpu.pprof" -w '%{http_code}' --max-time $((secs + 10)) \
	"http://$addr/debug/pprof/profile?seconds=$secs") || code=000
case $code in
200)
	if command -v go >/dev/null; then
		go tool pprof -top -nodecount="$top" "$dir/portsyncd.cpu.pprof" 2>/dev/null | sed -n "1,$((top + 6))p"
	else
		echo "(no go toolchain here: copy $dir/portsyncd.cpu.pprof and run go tool pprof -top on it)"
	fi
	;;
404) echo "$addr has no /debug/pprof/: start portsyncd with --pprof (and a loopback --metrics-addr)" >&2; rm -f "$dir/portsyncd.cpu.pprof" ;;
000) echo "nothing answers on $addr: is portsyncd running here (its network namespace), with this --metrics-addr?" >&2 ;;
*) echo "$addr answered $code: $(head -c 300 "$dir/portsyncd.cpu.pprof")" >&2; rm -f "$dir/portsyncd.cpu.pprof" ;;
esac

echo
if [ -z "$pid" ]; then
	echo "== perf: skipped (no single portsyncd found; give -p PID)"
elif [ -z "$perf_pid" ]; then
	echo "== perf: skipped (perf not installed)"
elif wait "$perf_pid" && [ -s "$dir/perf.data" ]; then
	echo "== perf record -e cpu-clock -g -p $pid, ${secs}s: top symbols (self)"
	perf report -i "$dir/perf.data" --stdio --no-children -g none --sort dso,symbol --percent-limit 0.5 2>/dev/null |
		grep -E "^ +[0-9.]+%" | sed "s/[ -]*$//" | head -n "$top"
else
	echo "== perf: does not work here: $(tail -n 1 "$dir/perf.log")"
fi
echo
echo "profiles in $dir"
[ "$code" = 200 ] || exit 1
