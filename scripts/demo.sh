#!/usr/bin/env bash
# Runs the real portsyncd against a private redis-server and veth ports named
# like SONiC front-panel ports in a network namespace, flaps the links, and
# prints STATE_DB PORT_TABLE after each change. Needs root. Cleans up on exit.
#
# --namespaces N: the multi-ASIC variant. N ASIC namespaces, each with its
# own redis-server and ports, listed in a database_global.json; one
# portsyncd, running outside them, serves all (--namespace per ASIC).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo-lib.sh

if [ "${1:-}" = "--namespaces" ]; then
	exec ./scripts/demo-namespaces.sh "${2:?--namespaces wants a number}"
fi

if ! command -v redis-server >/dev/null; then
	echo "== installing redis-server"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

work=$(mktemp -d /tmp/portsyncd-demo.XXXXXX)
ns=psd-demo-$$
peer=psd-peer-$$
sock=$work/redis.sock
ports=(Ethernet0 Ethernet4 Ethernet8 Ethernet12)
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	ip netns del "$peer" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "== building portsyncd"
go build -o "$work/portsyncd" ./cmd/portsyncd

echo "== starting a private redis-server on $sock"
start_redis "$sock" "$work"
write_db_config "$sock" "$work/database_config.json"
echo "== seeding CONFIG_DB PORT table"
seed_ports "$sock" "${ports[@]}"
start_orchagent "$sock"

echo "== namespace $ns (ports) and $peer (link partners)"
ip netns add "$ns"
ip netns add "$peer"
ip -n "$ns" link set lo up

echo "== starting portsyncd in $ns"
ip netns exec "$ns" "$work/portsyncd" --db-config "$work/database_config.json" --log-output stderr 2>"$work/portsyncd.log" &
pids+=($!)
for _ in $(seq 100); do grep -q 'msg=ready' "$work/portsyncd.log" && break; sleep 0.05; done

for p in "${ports[@]}"; do
	ip -n "$ns" link add "$p" type veth peer name "p$p" netns "$peer"
	ip -n "$peer" link set "p$p" up
	ip -n "$ns" link set "$p" mtu 9100 up
done

show() {
	sleep 1.5 # carrier changes reach netlink through the kernel's linkwatch
	echo
	echo "== $1"
	for p in "${ports[@]}"; do
		printf '%-11s %s\n' "$p" "$(redis-cli -s "$sock" -n 6 hgetall "PORT_TABLE|$p" | paste -sd' ')"
	done
}

show "ports created"
echo "APPL_DB: $(redis-cli -s "$sock" -n 0 keys 'PORT_TABLE:Port*' | sort | paste -sd' ')"
ip -n "$peer" link set pEthernet0 down
show "link partner of Ethernet0 down: carrier lost"
ip -n "$ns" link set Ethernet4 down
show "Ethernet4 admin down"
ip -n "$ns" link set Ethernet8 mtu 1500
show "Ethernet8 MTU 1500"
ip -n "$peer" link set pEthernet0 up
ip -n "$ns" link set Ethernet4 up
show "Ethernet0 partner up, Ethernet4 admin up"
ip -n "$ns" link del Ethernet12
show "Ethernet12 deleted"

echo
echo "== portsyncd log"
kill -TERM "${pids[2]}"
wait "${pids[2]}" && echo "(portsyncd exited 0 on SIGTERM)"
cat "$work/portsyncd.log"
