package doctor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Unlimited is RLIM_INFINITY, an rlimit with no limit.
const Unlimited = ^uint64(0)

// sysctlFix is how rmem_max is raised now and for good.
const sysctlFix = "sysctl -w net.core.rmem_max=%d; for good: /etc/sysctl.d/50-portsyncd.conf (the package installs it) and sysctl --system"

// RmemMax judges net.core.rmem_max, the cap on SO_RCVBUF, against the
// netlink receive buffer the daemon asks for (want bytes, --netlink-rcvbuf;
// 0 asks for none). force says SO_RCVBUFFORCE is permitted (CAP_NET_ADMIN),
// which ignores the cap.
func RmemMax(rmemMax, want int, force bool) Check {
	c := Check{Name: "net.core.rmem_max", Found: strconv.Itoa(rmemMax), Wanted: fmt.Sprintf(">= %d (--netlink-rcvbuf)", want)}
	switch {
	case want == 0:
		c.Verdict, c.Wanted = OK, "any (--netlink-rcvbuf 0 keeps the kernel's rmem_default)"
	case rmemMax >= want:
		c.Verdict = OK
	case force:
		c.Verdict = Warn
		c.Fix = fmt.Sprintf("SO_RCVBUFFORCE (CAP_NET_ADMIN) gets %d bytes past this cap here, but a portsyncd without CAP_NET_ADMIN (a container that drops it) would get %d: ", want, rmemMax) +
			fmt.Sprintf(sysctlFix, want)
	default:
		c.Verdict = Fail
		c.Fix = fmt.Sprintf("without CAP_NET_ADMIN the socket gets %d bytes, not %d: a burst of link events that fills it overruns the socket and costs a full re-dump (portsyncd_netlink_overruns_total): ", rmemMax, want) +
			fmt.Sprintf(sysctlFix, want)
	}
	return c
}

// RcvBufForce judges whether SO_RCVBUFFORCE is permitted: CAP_NET_ADMIN in
// the effective set of this process, as a daemon started the same way
// would have it. portsyncd also needs the capability at a cold start, to
// bring interfaces of an earlier run down (RTM_SETLINK).
func RcvBufForce(capNetAdmin bool) Check {
	c := Check{Name: "SO_RCVBUFFORCE (CAP_NET_ADMIN)", Wanted: "CAP_NET_ADMIN in the effective set"}
	if capNetAdmin {
		c.Verdict, c.Found = OK, "permitted"
		return c
	}
	c.Verdict, c.Found = Warn, "not permitted: no CAP_NET_ADMIN in the effective set"
	c.Fix = "run doctor as the daemon runs (root, the swss container, or the unit's AmbientCapabilities=CAP_NET_ADMIN); " +
		"without the capability the buffer is capped by net.core.rmem_max and a cold start cannot bring old interfaces down"
	return c
}

// THP judges /sys/kernel/mm/transparent_hugepage/enabled (its contents,
// e.g. "always [madvise] never"; "" when the kernel has no THP).
func THP(enabled string) Check {
	c := Check{Name: "transparent hugepages", Wanted: "madvise or never"}
	mode := ""
	for _, f := range strings.Fields(enabled) {
		if strings.HasPrefix(f, "[") && strings.HasSuffix(f, "]") {
			mode = strings.Trim(f, "[]")
		}
	}
	switch {
	case strings.TrimSpace(enabled) == "":
		c.Verdict, c.Found = OK, "not in this kernel"
	case mode == "madvise" || mode == "never":
		c.Verdict, c.Found = OK, mode
	case mode == "":
		c.Verdict, c.Found = Warn, "unreadable: "+strings.TrimSpace(enabled)
		c.Fix = "cat /sys/kernel/mm/transparent_hugepage/enabled should show the mode in brackets"
	default:
		c.Verdict, c.Found = Warn, mode
		c.Fix = "with always, any anonymous memory may be backed by 2 MiB pages (more RSS, faults that wait on compaction; Go asks for none under madvise): " +
			"echo madvise > /sys/kernel/mm/transparent_hugepage/enabled, for good transparent_hugepage=madvise on the kernel command line"
	}
	return c
}

// Memlock judges RLIMIT_MEMLOCK (cur, the soft limit; Unlimited for none)
// for --mlock, which calls mlockall(MCL_CURRENT|MCL_FUTURE): CAP_IPC_LOCK
// lifts the limit.
func Memlock(cur uint64, capIPCLock bool) Check {
	c := Check{Name: "memlock limit (--mlock)", Wanted: "unlimited, or CAP_IPC_LOCK"}
	switch {
	case capIPCLock:
		c.Verdict, c.Found = OK, "CAP_IPC_LOCK (the limit does not apply)"
	case cur == Unlimited:
		c.Verdict, c.Found = OK, "unlimited"
	default:
		c.Verdict, c.Found = Fail, fmt.Sprintf("%d KiB, no CAP_IPC_LOCK", cur/1024)
		c.Fix = "portsyncd --mlock exits 78 when mlockall fails, and once locked, growing past the limit fails: " +
			"LimitMEMLOCK=infinity with CAP_IPC_LOCK in CapabilityBoundingSet= and AmbientCapabilities= (a drop-in), " +
			"or drop --mlock, which measured 7x the RSS for no fault saved (docs/TUNING.md)"
	}
	return c
}

// Affinity reports the CPUs a daemon started like this process may run on
// (sched_getaffinity), out of online.
func Affinity(cpus []int, online int) Check {
	c := Check{Name: "CPU affinity", Verdict: OK, Wanted: "any (pinning measured no gain: docs/TUNING.md)"}
	switch {
	case len(cpus) == 0:
		c.Verdict, c.Found = Warn, "unknown"
		c.Fix = "taskset -p $$ shows it"
	case len(cpus) >= online:
		c.Found = fmt.Sprintf("CPUs %s (all %d)", cpuList(cpus), online)
	default:
		c.Found = fmt.Sprintf("CPUs %s of %d", cpuList(cpus), online)
	}
	return c
}

// cpuList writes cpus (sorted) as ranges: 0-3,6.
func cpuList(cpus []int) string {
	cpus = slices.Sorted(slices.Values(cpus))
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		} else {
			parts = append(parts, strconv.Itoa(cpus[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// Scheduling policies, as sched(7) numbers them.
const (
	SchedOther = 0
	SchedFIFO  = 1
	SchedRR    = 2
	SchedBatch = 3
	SchedIdle  = 5
)

// Sched judges the scheduling policy, real-time priority and nice value a
// daemon started like this process would get.
func Sched(policy, prio uint32, nice int32) Check {
	c := Check{Name: "scheduling policy", Wanted: "SCHED_OTHER, nice 0"}
	switch policy {
	case SchedOther:
		c.Found = fmt.Sprintf("SCHED_OTHER, nice %d", nice)
		switch {
		case nice > 0:
			c.Verdict = Warn
			c.Fix = "a positive nice puts link events behind ordinary work on a busy CPU: drop Nice= from the unit"
		case nice < 0:
			c.Verdict = Warn
			c.Fix = "Nice=-10 measured 2.3x the CPU per event under sustained load (the daemon preempts the event source and batches less; docs/TUNING.md): drop Nice= from the unit"
		default:
			c.Verdict = OK
		}
	case SchedFIFO, SchedRR:
		name := map[uint32]string{SchedFIFO: "SCHED_FIFO", SchedRR: "SCHED_RR"}[policy]
		c.Verdict, c.Found = Warn, fmt.Sprintf("%s, priority %d", name, prio)
		c.Fix = "SCHED_RR measured 4.6x the CPU per event under sustained load (docs/TUNING.md), and a runaway loop would starve the CPU: drop CPUSchedulingPolicy= from the unit"
	case SchedBatch, SchedIdle:
		name := map[uint32]string{SchedBatch: "SCHED_BATCH", SchedIdle: "SCHED_IDLE"}[policy]
		c.Verdict, c.Found = Warn, name
		c.Fix = "link events would wait behind other work (SCHED_IDLE: run only on an idle CPU): CPUSchedulingPolicy=other"
	default:
		c.Verdict, c.Found = Warn, fmt.Sprintf("policy %d", policy)
		c.Fix = "chrt -p $$ names it; portsyncd is tested under SCHED_OTHER"
	}
	return c
}

// DBConfig judges loading database_config.json at path: err is the
// loader's error, or the missing databases portsyncd needs; n counts its
// databases.
func DBConfig(path string, n int, err error) Check {
	c := Check{Name: "database_config.json", Wanted: "valid, with APPL_DB, CONFIG_DB and STATE_DB"}
	if err != nil {
		c.Verdict, c.Found = Fail, err.Error()
		c.Fix = "portsyncd exits 78 with this file: fix it or point --db-config at SONiC's (" + path + " is what was read)"
		return c
	}
	c.Verdict, c.Found = OK, fmt.Sprintf("%s: %d databases", path, n)
	return c
}

// slowPing is the round trip above which a database is called slow: every
// batch of writes waits for one.
const slowPing = 10 * time.Millisecond

// Ping judges one database's PING: addr is how it is reached, rtt the round
// trip of a PING on an open connection, err why it failed. used says
// portsyncd uses the database (APPL_DB, CONFIG_DB, STATE_DB): another one
// unreachable is only a warning.
func Ping(db, addr string, rtt time.Duration, err error, used bool) Check {
	c := Check{Name: "redis " + db, Wanted: "PONG"}
	if err != nil {
		c.Verdict, c.Found = Fail, fmt.Sprintf("%s: %v", addr, err)
		if !used {
			c.Verdict = Warn
		}
		c.Fix = "is its redis-server running, and does database_config.json name its unix_socket_path (or hostname and port)? " +
			"a database number the server lacks: `databases` in redis.conf; NOAUTH/WRONGPASS/NOPERM: the server's ACL"
		if used {
			c.Fix = "portsyncd waits for it (retrying with backoff) and never becomes ready: " + c.Fix
		}
		return c
	}
	c.Verdict = OK
	c.Found = fmt.Sprintf("PONG in %s (%s)", micros(rtt), addr)
	if rtt > slowPing {
		c.Verdict = Warn
		c.Fix = "every batch of STATE_DB writes waits a round trip: is the host overloaded, or Redis remote? a unix socket is the shortest way (docs/TUNING.md)"
	}
	return c
}

// micros writes d in microseconds, as the benchmarks do.
func micros(d time.Duration) string {
	return fmt.Sprintf("%.0f us", float64(d)/float64(time.Microsecond))
}

// Ports judges CONFIG_DB's PORT table: n entries (portsyncd's own markers
// left out), never those whose names can never be a followed link (with
// why), err a failure to read it.
func Ports(n int, never map[string]string, err error) Check {
	c := Check{Name: "CONFIG_DB PORT entries", Wanted: "one per front-panel port, each a possible link name"}
	switch {
	case err != nil:
		c.Verdict, c.Found = Fail, err.Error()
		c.Fix = "portsyncd reads them at start: see the redis CONFIG_DB row"
	case n == 0:
		c.Verdict, c.Found = Warn, "none"
		c.Fix = "orchagent gets PortConfigDone with count 0 and creates no ports: load the switch's configuration (config load / config_db.json), or check CONFIG_DB's number in database_config.json"
	case len(never) > 0:
		names := slices.Sorted(maps.Keys(never))
		var why []string
		for _, name := range names {
			why = append(why, fmt.Sprintf("%q (%s)", name, never[name]))
		}
		c.Verdict, c.Found = Warn, fmt.Sprintf("%d, of which %d can never be a link: %s", n, len(never), strings.Join(why, ", "))
		c.Fix = "PortInitDone waits for every configured port: rename or remove these in CONFIG_DB PORT"
	default:
		c.Verdict, c.Found = OK, strconv.Itoa(n)
	}
	return c
}

// KeyspaceOn reports whether notify-keyspace-events (the value of CONFIG
// GET) sends what portsyncd follows APPL_DB PORT_TABLE by: K (keyspace
// channel) with A, or with h (hset, hdel) and g (del). It is the rule
// dbwriter applies when it starts watching.
func KeyspaceOn(setting string) bool {
	return strings.Contains(setting, "K") && (strings.Contains(setting, "A") || strings.Contains(setting, "h") && strings.Contains(setting, "g"))
}

// Keyspace judges APPL_DB's server's notify-keyspace-events setting, or
// err, a failure to read it.
func Keyspace(setting string, err error) Check {
	c := Check{Name: "keyspace events (APPL_DB)", Wanted: "K with A, or K with h and g (SONiC sets AKE)"}
	lost := "without them portsyncd checks APPL_DB PORT_TABLE with an EXISTS round trip before every STATE_DB write, " +
		"and a write held for a port not yet in PORT_TABLE waits up to --port-table-recheck (10 s) instead of following it at once"
	switch {
	case err != nil:
		c.Verdict, c.Found = Warn, "unreadable: "+err.Error()
		c.Fix = "portsyncd reads it with CONFIG GET too, and takes a refusal as off: " + lost
	case KeyspaceOn(setting):
		c.Verdict, c.Found = OK, strconv.Quote(setting)
	default:
		c.Verdict, c.Found = Warn, strconv.Quote(setting)
		if setting == "" {
			c.Found += " (off)"
		}
		c.Fix = "redis-cli CONFIG SET notify-keyspace-events AKE, and notify-keyspace-events AKE in redis.conf; " + lost
	}
	return c
}

// Guard judges the single-instance guard: held by pid (0: not visible from
// this pid namespace) whose command name is comm; err a failure to probe
// it or to compute its name (Redis unreachable).
func Guard(held bool, pid int, comm string, err error) Check {
	c := Check{Name: "single-instance guard", Wanted: "free, or held by the one portsyncd that runs here"}
	switch {
	case err != nil:
		c.Verdict, c.Found = Warn, "not checked: "+err.Error()
		c.Fix = "the guard is named after each database's Redis run_id: mend the redis rows first"
	case !held:
		c.Verdict, c.Found = OK, "free"
	case pid == 0:
		c.Verdict, c.Found = OK, "held (pid not visible from here)"
	default:
		c.Verdict, c.Found = OK, fmt.Sprintf("held by pid %d (%s)", pid, comm)
		if comm != "portsyncd" {
			c.Verdict = Warn
			c.Fix = "a second portsyncd here would exit 78; the holder is not named portsyncd: ps -p " + strconv.Itoa(pid)
		}
	}
	return c
}

// Readyz judges a running daemon's /readyz at addr: its status code and
// body, or err (nothing answered). held says the single-instance guard is
// held, i.e. a daemon runs, so silence there means metrics elsewhere.
func Readyz(addr string, code int, body []byte, err error, held bool) Check {
	c := Check{Name: "portsyncd /readyz", Wanted: "200 ready, when a portsyncd runs"}
	switch {
	case addr == "":
		c.Verdict, c.Found = OK, "not asked (--metrics-addr empty)"
	case err != nil && !held:
		c.Verdict, c.Found = OK, "no answer on "+addr+" (no portsyncd runs)"
	case err != nil:
		c.Verdict, c.Found = Warn, "no answer on "+addr+": "+err.Error()
		c.Fix = "a portsyncd holds the guard but does not answer here: give doctor its --metrics-addr"
	case code == 200:
		c.Verdict, c.Found = OK, "200 ready"
	default:
		var r struct {
			InitialSync    bool              `json:"initial_sync"`
			RedisConnected bool              `json:"redis_connected"`
			PortInitDone   bool              `json:"port_init_done"`
			PendingPorts   []string          `json:"pending_ports"`
			NeverAppear    map[string]string `json:"never_appear"`
		}
		c.Verdict = Warn
		if jerr := json.Unmarshal(body, &r); jerr != nil || code != 503 {
			c.Found = fmt.Sprintf("%d: %s", code, strings.TrimSpace(string(body)))
			c.Fix = "is it portsyncd that serves " + addr + "?"
			return c
		}
		c.Found = fmt.Sprintf("503 not ready: initial_sync=%v redis_connected=%v port_init_done=%v", r.InitialSync, r.RedisConnected, r.PortInitDone)
		if len(r.PendingPorts) > 0 {
			c.Found += fmt.Sprintf(", waiting for %d ports (%s)", len(r.PendingPorts), clip(strings.Join(r.PendingPorts, " "), 80))
		}
		c.Fix = "docs/TROUBLESHOOTING.md, \"PortInitDone never sent\"; portsyncd status shows each port"
	}
	return c
}

// clip cuts s to n bytes with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Netns judges the network namespace name: err is stat's error on
// /run/netns/<name>.
func Netns(name string, err error) Check {
	path := "/run/netns/" + name
	c := Check{Name: "network namespace " + name, Wanted: path + " exists"}
	switch {
	case err == nil:
		c.Verdict, c.Found = OK, path
	case errors.Is(err, fs.ErrNotExist):
		c.Verdict, c.Found = Fail, "no "+path
		c.Fix = "ip netns list shows the namespaces there are; on SONiC they are asic0, asic1... made at boot with the ASICs' containers"
	default:
		c.Verdict, c.Found = Fail, err.Error()
		c.Fix = "ls -l /run/netns"
	}
	return c
}
