# Shared by demo.sh and demo-namespaces.sh (sourced, not run): a private
# redis-server with SONiC's database_config.json, CONFIG_DB ports, and
# orchagent's part of the APPL_DB producer/consumer protocol. Callers keep
# the pids to kill in their own "pids" array.

# start_redis SOCK DIR: a redis-server on unix socket SOCK, files in DIR,
# waited for.
start_redis() {
	redis-server --port 0 --unixsocket "$1" --unixsocketperm 700 --save '' --appendonly no \
		--dir "$2" --logfile "$2/redis.log" --daemonize no &
	pids+=($!)
	for _ in $(seq 100); do redis-cli -s "$1" ping >/dev/null 2>&1 && break; sleep 0.05; done
}

# write_db_config SOCK FILE: SONiC's database_config.json for that server.
write_db_config() {
	cat >"$2" <<JSON
{"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": 6379, "unix_socket_path": "$1"}},
 "DATABASES": {"APPL_DB": {"id": 0, "separator": ":", "instance": "redis"},
               "CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis"},
               "STATE_DB": {"id": 6, "separator": "|", "instance": "redis"}},
 "VERSION": "1.0"}
JSON
}

# seed_ports SOCK PORT...: CONFIG_DB PORT|<name> with typical fields.
seed_ports() {
	local sock=$1 lane=0 p
	shift
	for p in "$@"; do
		redis-cli -s "$sock" -n 4 hset "PORT|$p" lanes "$lane,$((lane + 1)),$((lane + 2)),$((lane + 3))" \
			speed 100000 alias "etp$((lane / 4 + 1))" admin_status up mtu 9100 >/dev/null
		lane=$((lane + 4))
	done
}

# start_orchagent SOCK: pop staged PORT_TABLE entries into PORT_TABLE:<name>
# every 100 ms, as orchagent does, so portsyncd may write STATE_DB.
start_orchagent() {
	local pop='local keys = redis.call("SPOP", KEYS[1], 128)
for _, k in ipairs(keys) do
  local staged = "_PORT_TABLE:" .. k
  if redis.call("SREM", KEYS[2], k) == 1 then redis.call("DEL", "PORT_TABLE:" .. k) end
  local fv = redis.call("HGETALL", staged)
  if #fv > 0 then redis.call("HSET", "PORT_TABLE:" .. k, unpack(fv)) end
  redis.call("DEL", staged)
end
return #keys'
	(while redis-cli -s "$1" -n 0 eval "$pop" 2 PORT_TABLE_KEY_SET PORT_TABLE_DEL_SET >/dev/null 2>&1; do sleep 0.1; done) &
	pids+=($!)
}
