package test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// waitFor is how long a test waits for the daemon to reach a state. Carrier
// changes take up to a second through the kernel's linkwatch.
const waitFor = 10 * time.Second

// env is one daemon's world: Redis, the port namespace and the link
// partners' namespace.
type env struct {
	t                   *testing.T
	redis               *harness.Redis
	dbConfig            string
	dumpDir             string // the daemon's --dump-dir
	ns, peers           *harness.Netns
	appl, config, state *redis.Client
	orch                *harness.Orchagent
	daemon              *harness.Daemon
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t)
}

// newEnvWith is newEnv with options for the server; WithTCP puts the test's
// own clients (and the orchagent stand-in's) on TCP, the daemon stays on
// the unix socket.
func newEnvWith(t *testing.T, opts ...harness.RedisOption) *env {
	t.Helper()
	harness.RequireRoot(t)
	e := &env{t: t, redis: harness.StartRedis(t, opts...)}
	e.dbConfig = e.redis.WriteDBConfig(t)
	e.dumpDir = t.TempDir()
	e.ns, e.peers = harness.NewNetns(t), harness.NewNetns(t)
	client := e.redis.Client
	if e.redis.TCPAddr != "" {
		client = e.redis.TCPClient
	}
	e.appl, e.config, e.state = client(t, 0), client(t, 4), client(t, 6)
	e.orch = harness.NewOrchagent(t, e.appl)
	return e
}

// notify sets the server's notify-keyspace-events before the daemon starts,
// as SONiC's redis.conf does ("AKE"); "" leaves it off (the harness's
// default).
func (e *env) notify(flags string) {
	e.t.Helper()
	if flags == "" {
		return
	}
	if err := e.appl.ConfigSet(context.Background(), "notify-keyspace-events", flags).Err(); err != nil {
		e.t.Fatalf("CONFIG SET notify-keyspace-events: %v", err)
	}
}

// configure writes CONFIG_DB PORT|<name> for each name with typical fields.
func (e *env) configure(names ...string) {
	e.t.Helper()
	for i, n := range names {
		e.hset(e.config, "PORT|"+n, "lanes", fmt.Sprintf("%d,%d,%d,%d", 4*i, 4*i+1, 4*i+2, 4*i+3),
			"speed", "100000", "alias", fmt.Sprintf("etp%d", i+1), "mtu", "9100", "admin_status", "up")
	}
}

func (e *env) hset(c *redis.Client, key string, fv ...string) {
	e.t.Helper()
	args := make([]any, len(fv))
	for i, v := range fv {
		args[i] = v
	}
	if err := c.HSet(context.Background(), key, args...).Err(); err != nil {
		e.t.Fatalf("HSET %s: %v", key, err)
	}
}

func (e *env) hgetall(c *redis.Client, key string) map[string]string {
	e.t.Helper()
	m, err := c.HGetAll(context.Background(), key).Result()
	if err != nil {
		e.t.Fatalf("HGETALL %s: %v", key, err)
	}
	return m
}

func (e *env) exists(c *redis.Client, key string) bool {
	e.t.Helper()
	n, err := c.Exists(context.Background(), key).Result()
	if err != nil {
		e.t.Fatalf("EXISTS %s: %v", key, err)
	}
	return n == 1
}

// args are the daemon's arguments in this environment, then args.
func (e *env) args(args ...string) []string {
	return append([]string{"--db-config", e.dbConfig, "--dump-dir", e.dumpDir}, args...)
}

// stateDump asks the daemon for a state dump (SIGUSR1) and returns it.
func (e *env) stateDump(t *testing.T) map[string]any {
	t.Helper()
	before := e.countLog(`msg="state dumped"`)
	e.daemon.Signal(t, syscall.SIGUSR1)
	harness.Eventually(t, waitFor, func() bool { return e.countLog(`msg="state dumped"`) > before },
		func() string { return "no state dump:\n" + e.log() })
	m := regexp.MustCompile(`msg="state dumped" path=(\S+)`).FindAllStringSubmatch(e.log(), -1)
	path := m[len(m)-1][1]
	if filepath.Dir(path) != e.dumpDir {
		t.Fatalf("state dumped to %s, want it in %s", path, e.dumpDir)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read state dump: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("state dump %s: %v\n%s", path, err, b)
	}
	return doc
}

// start runs the daemon in the port namespace and waits until it is ready.
func (e *env) start(args ...string) *harness.Daemon {
	e.t.Helper()
	e.daemon = harness.StartDaemon(e.t, e.ns, e.args(args...)...)
	e.daemon.WaitLog(e.t, "msg=ready", waitFor)
	return e.daemon
}

// portState returns STATE_DB PORT_TABLE|<name>.
func (e *env) portState(name string) map[string]string {
	return e.hgetall(e.state, "PORT_TABLE|"+name)
}

// want is the state portsyncd writes for a port.
func want(admin, oper string, mtu int) map[string]string {
	return map[string]string{"state": "ok", "admin_status": admin, "netdev_oper_status": oper, "mtu": fmt.Sprint(mtu)}
}

// waitState waits until STATE_DB PORT_TABLE|<name> holds every field of w.
func (e *env) waitState(name string, w map[string]string) {
	e.t.Helper()
	var got map[string]string
	harness.Eventually(e.t, waitFor, func() bool {
		got = e.portState(name)
		sub := make(map[string]string)
		for k := range w {
			if v, ok := got[k]; ok {
				sub[k] = v
			}
		}
		return maps.Equal(sub, w)
	}, func() string {
		return fmt.Sprintf("STATE_DB PORT_TABLE|%s (-want +got):\n%s\ndaemon log:\n%s", name, cmp.Diff(w, got), e.log())
	})
}

// waitGone waits until STATE_DB PORT_TABLE|<name> does not exist.
func (e *env) waitGone(name string) {
	e.t.Helper()
	harness.Eventually(e.t, waitFor, func() bool { return !e.exists(e.state, "PORT_TABLE|"+name) },
		func() string { return fmt.Sprintf("STATE_DB PORT_TABLE|%s still exists: %v", name, e.portState(name)) })
}

// waitKey waits until APPL_DB PORT_TABLE:<key> exists (consumed by orchagent).
func (e *env) waitAppl(key string) map[string]string {
	e.t.Helper()
	harness.Eventually(e.t, waitFor, func() bool { return e.exists(e.appl, "PORT_TABLE:"+key) },
		func() string {
			return fmt.Sprintf("APPL_DB PORT_TABLE:%s never appeared; daemon log:\n%s", key, e.log())
		})
	return e.hgetall(e.appl, "PORT_TABLE:"+key)
}

// settle gives the daemon time to act on something it must ignore: the
// absence of a write can only be observed after a while. A marker change on
// another port, written after the ignored one, shows the daemon got past it.
func (e *env) settle(marker string, mtu int) {
	e.t.Helper()
	e.ns.SetMTU(e.t, marker, mtu)
	e.waitState(marker, map[string]string{"mtu": fmt.Sprint(mtu)})
}

func (e *env) log() string {
	if e.daemon == nil {
		return "(daemon not started)"
	}
	return e.daemon.Log()
}

// countLog counts the lines of the daemon's log that contain substr.
func (e *env) countLog(substr string) int {
	return strings.Count(e.log(), substr)
}
