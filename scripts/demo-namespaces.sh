#!/usr/bin/env bash
# The multi-ASIC demo (./scripts/demo.sh --namespaces N): N network
# namespaces asic0.. (named psd-asicI-PID here), each with its own private
# redis-server and veth ports, listed in a database_global.json; one
# portsyncd, in the host's namespace, serves every one with --namespace.
# Flaps links in one namespace and prints each namespace's STATE_DB, which
# only that namespace's changes reach. Needs root. Cleans up on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo-lib.sh
n=${1:?usage: demo-namespaces.sh N}
[ "$n" -ge 1 ] 2>/dev/null || { echo "N must be 1 or more" >&2; exit 64; }

if ! command -v redis-server >/dev/null; then
	echo "== installing redis-server"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

work=$(mktemp -d /tmp/portsyncd-demo.XXXXXX)
ports=(Ethernet0 Ethernet4)
pids=()
names=()
for i in $(seq 0 $((n - 1))); do names+=("psd-asic$i-$$"); done

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for ns in "${names[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
		ip netns del "$ns-peer" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

echo "== building portsyncd"
go build -o "$work/portsyncd" ./cmd/portsyncd


includes='{"include": "database_config.json"}'
for i in $(seq 0 $((n - 1))); do
	ns=${names[$i]}
	dir=$work/redis$i/sonic-db
	sock=$work/redis$i/redis.sock
	mkdir -p "$dir"
	echo "== $ns: redis-server on $sock, ports ${ports[*]}"
	start_redis "$sock" "$work/redis$i"
	write_db_config "$sock" "$dir/database_config.json"
	includes="$includes, {\"namespace\": \"$ns\", \"include\": \"../../redis$i/sonic-db/database_config.json\"}"
	seed_ports "$sock" "${ports[@]}"
	start_orchagent "$sock"
	ip netns add "$ns"
	ip netns add "$ns-peer"
	ip -n "$ns" link set lo up
done
mkdir -p "$work/redis/sonic-db" "$work/dumps"
echo "{\"INCLUDES\": [$includes], \"VERSION\": \"1.0\"}" >"$work/redis/sonic-db/database_global.json"
echo "== $work/redis/sonic-db/database_global.json"
cat "$work/redis/sonic-db/database_global.json"

args=()
for ns in "${names[@]}"; do args+=(-n "$ns"); done
echo "== starting one portsyncd in the host's namespace: ${args[*]}"
"$work/portsyncd" --db-global-config "$work/redis/sonic-db/database_global.json" "${args[@]}" \
	--metrics-addr 127.0.0.1:0 --dump-dir "$work/dumps" --log-output stderr 2>"$work/portsyncd.log" &
daemon=$!
pids+=($daemon)
for _ in $(seq 100); do [ "$(grep -c 'msg=ready namespace=' "$work/portsyncd.log")" -ge "$n" ] && break; sleep 0.05; done

for ns in "${names[@]}"; do
	for p in "${ports[@]}"; do
		ip -n "$ns" link add "$p" type veth peer name "p$p" netns "$ns-peer"
		ip -n "$ns-peer" link set "p$p" up
		ip -n "$ns" link set "$p" mtu 9100 up
	done
done

show() {
	sleep 1.5 # carrier changes reach netlink through the kernel's linkwatch
	echo
	echo "== $1"
	for i in $(seq 0 $((n - 1))); do
		for p in "${ports[@]}"; do
			printf '%-16s %-10s %s\n' "${names[$i]}" "$p" \
				"$(redis-cli -s "$work/redis$i/redis.sock" -n 6 hgetall "PORT_TABLE|$p" | paste -sd' ')"
		done
		echo "${names[$i]} APPL_DB: $(redis-cli -s "$work/redis$i/redis.sock" -n 0 keys 'PORT_TABLE:Port*' | sort | paste -sd' ')"
	done
}

show "ports created in every namespace"
first=${names[0]}
ip -n "$first-peer" link set pEthernet0 down
ip -n "$first" link set Ethernet4 mtu 1500
show "$first only: Ethernet0's partner down, Ethernet4 MTU 1500"

echo
echo "== portsyncd status -n all"
"$work/portsyncd" status --db-global-config "$work/redis/sonic-db/database_global.json" -n all || true

echo
echo "== portsyncd log"
kill -TERM "$daemon" 2>/dev/null || true
wait "$daemon" && echo "(portsyncd exited 0 on SIGTERM)" || echo "(portsyncd exited $?)"
cat "$work/portsyncd.log"
