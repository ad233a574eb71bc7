// Package doctor checks a host for portsyncd ("portsyncd doctor"): the
// kernel settings it depends on (net.core.rmem_max against the netlink
// receive buffer, SO_RCVBUFFORCE, THP), the limits and scheduling a daemon
// started the same way would get (memlock for --mlock, CPU affinity,
// scheduling policy), SONiC's database_config.json and every database it
// names (PING round trip, CONFIG_DB PORT entries, keyspace events), the
// single-instance guard, a running daemon's /readyz, and the network
// namespaces asked for.
//
// Each verdict is a pure function from what was found to a Check (OK, WARN
// or FAIL, the value found, the value wanted, the fix), table-tested; Probe
// gathers the facts from the host and Redis and calls them. It reads and
// never writes: no sysctl, no Redis key, no guard taken.
package doctor
