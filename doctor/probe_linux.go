package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/instance"
	"github.com/sonic-go/portsyncd/sonic"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// Options are what the daemon would be started with, as far as the checks
// depend on it.
type Options struct {
	// DBConfig is the path of database_config.json.
	DBConfig string
	// RcvBuf is --netlink-rcvbuf, in bytes.
	RcvBuf int
	// Mlock is --mlock.
	Mlock bool
	// MetricsAddr is where a running daemon's /readyz is asked; "" skips it.
	MetricsAddr string
	// Namespaces are network namespaces that must exist in /run/netns.
	Namespaces []string
	// Timeout bounds each Redis command and the /readyz request.
	Timeout time.Duration
}

// Linux capability numbers (capability.h).
const (
	capNetAdmin = 12
	capIPCLock  = 14
)

// Probe runs every check on this host, in this process's network namespace
// (where the single-instance guard and the metrics address live), and
// returns the report. It changes nothing.
func Probe(ctx context.Context, o Options) Report {
	var r Report
	r.Schema = 1
	add := func(c Check) { r.Checks = append(r.Checks, c) }

	capEff, capErr := readCapEff("/proc/self/status")
	rmem, err := readInt("/proc/sys/net/core/rmem_max")
	if err != nil {
		add(Check{Name: "net.core.rmem_max", Verdict: Warn, Found: err.Error(), Wanted: "readable", Fix: "sysctl net.core.rmem_max"})
	} else {
		add(RmemMax(rmem, o.RcvBuf, capErr == nil && capEff&(1<<capNetAdmin) != 0))
	}
	if capErr != nil {
		add(Check{Name: "capabilities", Verdict: Warn, Found: capErr.Error(), Wanted: "readable", Fix: "grep Cap /proc/self/status"})
	} else {
		add(RcvBufForce(capEff&(1<<capNetAdmin) != 0))
	}
	thp, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		thp = []byte("unreadable " + err.Error())
	}
	add(THP(string(thp)))
	if o.Mlock {
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
			add(Check{Name: "memlock limit (--mlock)", Verdict: Warn, Found: err.Error(), Wanted: "readable", Fix: "ulimit -l"})
		} else {
			add(Memlock(lim.Cur, capErr == nil && capEff&(1<<capIPCLock) != 0))
		}
	}
	add(affinity())
	if a, err := unix.SchedGetAttr(0, 0); err != nil {
		add(Check{Name: "scheduling policy", Verdict: Warn, Found: err.Error(), Wanted: "readable", Fix: "chrt -p $$"})
	} else {
		add(Sched(a.Policy, a.Priority, a.Nice))
	}
	for _, ns := range o.Namespaces {
		_, err := os.Stat("/run/netns/" + ns)
		add(Netns(ns, err))
	}

	held := false
	for _, c := range redisChecks(ctx, o) {
		add(c)
		if c.Name == "single-instance guard" && strings.HasPrefix(c.Found, "held") {
			held = true
		}
	}
	add(readyz(ctx, o.MetricsAddr, o.Timeout, held))
	return r
}

// used are the databases portsyncd itself talks to.
var used = []string{"APPL_DB", "CONFIG_DB", "STATE_DB"}

// redisChecks checks database_config.json, PINGs every database it names,
// then, if portsyncd's three answer, reads CONFIG_DB's ports, APPL_DB's
// keyspace-event setting and the single-instance guard.
func redisChecks(ctx context.Context, o Options) []Check {
	cfg, err := dbconfig.Load(o.DBConfig)
	if err == nil {
		if err = cfg.Require(used...); err != nil {
			err = fmt.Errorf("%s: %w", o.DBConfig, err)
		}
	}
	n := 0
	if cfg != nil {
		n = len(cfg.Databases)
	}
	out := []Check{DBConfig(o.DBConfig, n, err)}
	if err != nil {
		return out
	}

	names := slices.Sorted(maps.Keys(cfg.Databases))
	reachable := 0
	for _, name := range names {
		db := cfg.Databases[name]
		rtt, addr, err := ping(ctx, db, o.Timeout)
		isUsed := slices.Contains(used, name)
		out = append(out, Ping(name, addr, rtt, err, isUsed))
		if err == nil && isUsed {
			reachable++
		}
	}
	if reachable < len(used) {
		why := errors.New("APPL_DB, CONFIG_DB or STATE_DB unreachable")
		return append(out, Ports(0, nil, why), Keyspace("", why), Guard(false, 0, "", why))
	}

	dbs, err := sonicdb.Open(cfg)
	if err != nil { // Require passed: not expected
		return append(out, Guard(false, 0, "", err))
	}
	defer dbs.Close()
	ctx, cancel := context.WithTimeout(ctx, 4*o.Timeout)
	defer cancel()

	ports, err := sonicdb.LoadPorts(ctx, dbs.Config)
	count, never := 0, map[string]string{}
	for _, p := range ports {
		if sonic.IsMarker(p.Name) {
			continue
		}
		count++
		if why := sonic.NeverNetdev(p.Name); why != "" {
			never[p.Name] = why
		}
	}
	out = append(out, Ports(count, never, err))

	setting, err := dbs.Appl.Client.ConfigGet(ctx, "notify-keyspace-events").Result()
	out = append(out, Keyspace(setting["notify-keyspace-events"], err))

	out = append(out, guard(ctx, dbs))
	return out
}

// ping opens a connection to db and times a PING on it (the first PING
// also dials and selects the database, which is not the round trip).
func ping(ctx context.Context, db dbconfig.Database, timeout time.Duration) (time.Duration, string, error) {
	opts := db.RedisOptions()
	addr := opts.Network + " " + opts.Addr
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = timeout, timeout, timeout
	opts.MaxRetries = -1
	opts.PoolSize = 1
	opts.Protocol = 2
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	c := redis.NewClient(opts)
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		return 0, addr, err
	}
	start := time.Now()
	if err := c.Ping(ctx).Err(); err != nil {
		return 0, addr, err
	}
	return time.Since(start), addr, nil
}

// guard asks, without taking it, who holds the single-instance guard named
// after these databases' servers (see package instance and startup).
func guard(ctx context.Context, dbs *sonicdb.DBs) Check {
	var ids []instance.DB
	for _, db := range []*sonicdb.DB{dbs.Appl, dbs.Config, dbs.State} {
		id, err := sonicdb.ServerID(ctx, db)
		if err != nil {
			return Guard(false, 0, "", err)
		}
		ids = append(ids, instance.DB{Name: db.Name, RunID: id, ID: db.ID})
	}
	held, pid, err := instance.Holder(instance.Name(ids))
	comm := ""
	if pid > 0 {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		comm = strings.TrimSpace(string(b))
	}
	return Guard(held, pid, comm, err)
}

// readyz asks a running daemon's /readyz.
func readyz(ctx context.Context, addr string, timeout time.Duration, held bool) Check {
	if addr == "" {
		return Readyz("", 0, nil, nil, held)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/readyz", nil)
	if err != nil {
		return Readyz(addr, 0, nil, err, held)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Readyz(addr, 0, nil, err, held)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return Readyz(addr, resp.StatusCode, body, err, held)
}

// affinity reads this process's CPU affinity and the CPUs online.
func affinity() Check {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return Affinity(nil, 0)
	}
	var cpus []int
	for i := range 1024 {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	online := len(cpus)
	if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		if n, err := countCPUList(string(b)); err == nil {
			online = n
		}
	}
	return Affinity(cpus, online)
}

// countCPUList counts the CPUs of a kernel CPU list ("0-3,6\n").
func countCPUList(s string) (int, error) {
	n := 0
	for part := range strings.SplitSeq(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, fmt.Errorf("cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("cpu list %q: bad range %q", s, part)
			}
		}
		n += b - a + 1
	}
	return n, nil
}

// readCapEff reads the effective capability set from a /proc/PID/status.
func readCapEff(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return parseCapEff(string(b))
}

// parseCapEff finds "CapEff:\t<hex>" in the text of /proc/PID/status.
func parseCapEff(status string) (uint64, error) {
	for line := range strings.Lines(status) {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("no CapEff line in /proc/self/status")
}

// readInt reads a file holding one decimal integer (a sysctl).
func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
