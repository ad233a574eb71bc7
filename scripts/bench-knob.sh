#!/usr/bin/env bash
# Runs ./scripts/bench.sh with one scheduler knob applied to every portsyncd
# the benchmark starts, as systemd would apply it from the unit file, so
# that docs/TUNING.md can compare a knob against a plain run. The original
# C++ daemon and the relay in the same run keep the defaults.
#
#   scripts/bench-knob.sh affinity=1  [bench.sh arguments]   # CPUAffinity=1
#   scripts/bench-knob.sh nice=-10    [bench.sh arguments]   # Nice=-10
#   scripts/bench-knob.sh rr=10       [bench.sh arguments]   # CPUSchedulingPolicy=rr, CPUSchedulingPriority=10
#
# The knob is applied to every thread of each portsyncd (found by its
# executable, the benchmark's build under /tmp/psd-build-*, among this
# script's descendants) within ~100 ms of its start; threads Go creates later
# inherit it from the thread that clones them. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 affinity=CPU|nice=N|rr=PRIO [bench.sh args]" >&2; exit 64; }
knob=$1; shift
case $knob in
affinity=*|nice=*|rr=*) ;;
*) echo "$0: unknown knob $knob: want affinity=CPU, nice=N or rr=PRIO" >&2; exit 64 ;;
esac
value=${knob#*=}

# descends reports whether pid has this script as an ancestor.
descends() {
	local p=$1
	while [ "$p" -gt 1 ]; do
		[ "$p" -eq $$ ] && return 0
		p=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null) || return 1
		[ -n "$p" ] || return 1
	done
	return 1
}

apply() {
	local pid=$1 tid
	case $knob in
	affinity=*) taskset -a -cp "$value" "$pid" >/dev/null ;;
	rr=*) chrt -a -r -p "$value" "$pid" ;;
	nice=*) for tid in /proc/"$pid"/task/*; do renice -n "$value" -p "${tid##*/}" >/dev/null; done ;;
	esac
}

./scripts/bench.sh "$@" &
bench=$!
declare -A done_pids=()
applied=0
while kill -0 "$bench" 2>/dev/null; do
	# pgrep only lists; the original is named portsyncd too, hence the
	# executable's path.
	for pid in $(pgrep -x portsyncd || true); do
		[ -z "${done_pids[$pid]:-}" ] || continue
		target=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		case $target in /tmp/psd-build-*/portsyncd) ;; *) continue ;; esac
		descends "$pid" || continue
		if apply "$pid" 2>/dev/null; then
			done_pids[$pid]=1
			applied=$((applied + 1))
		fi
	done
	sleep 0.1
done
status=0
wait "$bench" || status=$?
echo "bench-knob: $knob applied to $applied portsyncd process(es)"
exit $status
