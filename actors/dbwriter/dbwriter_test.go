package dbwriter

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonicdb"
	"github.com/sonic-go/portsyncd/test/harness"
)

const waitFor = 10 * time.Second

// inbox is an actor standing where portstate and netlinkrx would: it keeps
// what dbwriter sends them.
type inbox struct {
	mu      sync.Mutex
	written []string
	resyncs int
}

func (b *inbox) Receive(ctx actor.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch m := ctx.Message().(type) {
	case *messages.StateWritten:
		b.written = append(b.written, m.Ports...)
	case *messages.ResyncRequest:
		b.resyncs++
	}
}

func (b *inbox) acked(port string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Contains(b.written, port)
}

// writerEnv is dbwriter on a real redis-server.
type writerEnv struct {
	t           *testing.T
	redis       *harness.Redis
	appl, state *redis.Client
	root        *actor.RootContext
	pid         *actor.PID
	box         *inbox
	stats       *Stats
	logs        *lockedBuffer
}

// lockedBuffer keeps what the writer logs, for tests that read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// envOptions change newWriterEnv's world.
type envOptions struct {
	// notify is the server's notify-keyspace-events, set before dbwriter
	// starts (the harness's default: off).
	notify string
	// recheck is Config.Recheck.
	recheck time.Duration
}

func newWriterEnv(t *testing.T, owned Owned) *writerEnv {
	t.Helper()
	return newWriterEnvWith(t, owned, envOptions{recheck: 100 * time.Millisecond})
}

func newWriterEnvWith(t *testing.T, owned Owned, o envOptions) *writerEnv {
	t.Helper()
	harness.RequireRoot(t)
	r := harness.StartRedis(t)
	if o.notify != "" {
		if err := r.Client(t, 0).ConfigSet(context.Background(), "notify-keyspace-events", o.notify).Err(); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := dbconfig.Load(r.WriteDBConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	dbs, err := sonicdb.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dbs.Close)
	logs := &lockedBuffer{}
	var out io.Writer = logs
	if testing.Verbose() {
		out = io.MultiWriter(logs, os.Stderr)
	}
	log := slog.New(slog.NewTextHandler(out, nil))
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log }))
	e := &writerEnv{t: t, redis: r, appl: r.Client(t, 0), state: r.Client(t, 6), root: system.Root, box: &inbox{}, stats: &Stats{}, logs: logs}
	box := e.root.Spawn(actor.PropsFromProducer(func() actor.Actor { return e.box }))
	loop := actors.NewLoop()
	onLoop, _ := loop.Option(actors.DefaultMailboxLimit)
	e.pid = e.root.Spawn(New(Config{DBs: dbs, Owned: owned, Acks: box, Netlink: box,
		MaxBackoff: 200 * time.Millisecond, Recheck: o.recheck, Logger: log, Stats: e.stats}).Configure(onLoop))
	t.Cleanup(func() {
		e.root.StopFuture(e.pid).Wait()
		loop.Close(time.Second)
	})
	return e
}

func (e *writerEnv) send(m *messages.StateOps) { e.root.Send(e.pid, m) }

func (e *writerEnv) flush() {
	e.t.Helper()
	if _, err := e.root.RequestFuture(e.pid, &messages.Flush{}, waitFor).Result(); err != nil {
		e.t.Fatalf("flush: %v", err)
	}
}

func (e *writerEnv) hgetall(c *redis.Client, key string) map[string]string {
	e.t.Helper()
	m, err := c.HGetAll(context.Background(), key).Result()
	if err != nil {
		e.t.Fatalf("HGETALL %s: %v", key, err)
	}
	return m
}

func (e *writerEnv) eventually(cond func() bool, what string) {
	e.t.Helper()
	harness.Eventually(e.t, waitFor, cond, func() string { return what })
}

func fieldsOf(admin, oper string, mtu string) map[string]string {
	return map[string]string{"state": "ok", "admin_status": admin, "netdev_oper_status": oper, "mtu": mtu}
}

func TestWriterOnRedis(t *testing.T) {
	ctx := context.Background()
	e := newWriterEnv(t, cold("Ethernet0", "Ethernet4"))

	// Cold start: the configuration and PortConfigDone are staged.
	e.flush()
	if diff := cmp.Diff(map[string]string{"count": "2"}, e.hgetall(e.appl, "_PORT_TABLE:PortConfigDone")); diff != "" {
		t.Errorf("PortConfigDone (-want +got):\n%s", diff)
	}

	// Ethernet0 is in PORT_TABLE, Ethernet4 not yet: only Ethernet0 is
	// written and acknowledged; Ethernet4 is held.
	e.appl.HSet(ctx, "PORT_TABLE:Ethernet0", "lanes", "0")
	e.state.HSet(ctx, "PORT_TABLE|Ethernet0", "other_daemon", "kept")
	e.send(ops(setOp("Ethernet0", up), setOp("Ethernet4", down)))
	e.eventually(func() bool { return e.box.acked("Ethernet0") }, "Ethernet0 never acknowledged")
	want := fieldsOf("up", "up", "9100")
	want["other_daemon"] = "kept"
	if diff := cmp.Diff(want, e.hgetall(e.state, "PORT_TABLE|Ethernet0")); diff != "" {
		t.Errorf("Ethernet0 merged into its STATE_DB hash (-want +got):\n%s", diff)
	}
	if len(e.hgetall(e.state, "PORT_TABLE|Ethernet4")) != 0 || e.box.acked("Ethernet4") {
		t.Errorf("Ethernet4 written before it was in PORT_TABLE")
	}
	// Orchagent consumes Ethernet4: the held state follows on the slow
	// re-check (this server sends no keyspace events).
	e.appl.HSet(ctx, "PORT_TABLE:Ethernet4", "lanes", "4")
	e.eventually(func() bool { return e.box.acked("Ethernet4") }, "held Ethernet4 never written")
	if diff := cmp.Diff(fieldsOf("down", "down", "9100"), e.hgetall(e.state, "PORT_TABLE|Ethernet4")); diff != "" {
		t.Errorf("Ethernet4 (-want +got):\n%s", diff)
	}

	// PortInitDone, then a DEL.
	e.send(&messages.StateOps{InitDone: true, Ops: []messages.PortOp{delOp("Ethernet4")}})
	e.flush()
	if diff := cmp.Diff(map[string]string{"lanes": "0"}, e.hgetall(e.appl, "_PORT_TABLE:PortInitDone")); diff != "" {
		t.Errorf("PortInitDone (-want +got):\n%s", diff)
	}
	if !e.stats.InitDoneSent.Load() {
		t.Errorf("InitDoneSent not set")
	}
	if n, _ := e.state.Exists(ctx, "PORT_TABLE|Ethernet4").Result(); n != 0 {
		t.Errorf("Ethernet4 not deleted")
	}

	// A dump without Ethernet0 deletes its entry (ours: it has
	// netdev_oper_status), but not another daemon's entry without it.
	e.state.HSet(ctx, "PORT_TABLE|Ethernet8", "speed", "100000")
	e.send(&messages.StateOps{Present: map[string]bool{"Ethernet4": true}})
	e.flush()
	if n, _ := e.state.Exists(ctx, "PORT_TABLE|Ethernet0").Result(); n != 0 {
		t.Errorf("stale Ethernet0 not deleted")
	}
	if n, _ := e.state.Exists(ctx, "PORT_TABLE|Ethernet8").Result(); n != 1 {
		t.Errorf("another daemon's Ethernet8 deleted")
	}
	if e.stats.Reconciled.Load() != 1 {
		t.Errorf("reconciled = %d, want 1", e.stats.Reconciled.Load())
	}
	for _, req := range []any{&messages.Heartbeat{}, &messages.DumpState{}} {
		if _, err := e.root.RequestFuture(e.pid, req, waitFor).Result(); err != nil {
			t.Fatalf("%T: %v", req, err)
		}
	}
}

// A rejected write (WRONGTYPE) is held and retried until the key is fixed.
func TestWriterRejectedWriteRetried(t *testing.T) {
	ctx := context.Background()
	e := newWriterEnv(t, warm)
	e.appl.HSet(ctx, "PORT_TABLE:Ethernet0", "lanes", "0")
	e.state.Set(ctx, "PORT_TABLE|Ethernet0", "not a hash", 0)
	e.send(ops(setOp("Ethernet0", up)))
	e.eventually(func() bool { return e.stats.Rejected.Load() > 0 }, "no rejection counted")
	e.state.Del(ctx, "PORT_TABLE|Ethernet0")
	e.eventually(func() bool { return e.box.acked("Ethernet0") }, "rejected write never retried")
	if diff := cmp.Diff(fieldsOf("up", "up", "9100"), e.hgetall(e.state, "PORT_TABLE|Ethernet0")); diff != "" {
		t.Errorf("Ethernet0 (-want +got):\n%s", diff)
	}
}

// Redis restarts (empty): the writer notices and writes everything it owns
// again; writes during the outage are not lost.
func TestWriterRedisRestart(t *testing.T) {
	ctx := context.Background()
	e := newWriterEnv(t, cold("Ethernet0"))
	e.appl.HSet(ctx, "PORT_TABLE:Ethernet0", "lanes", "0")
	e.send(ops(setOp("Ethernet0", up)))
	e.send(&messages.StateOps{InitDone: true})
	e.flush()
	e.eventually(func() bool { return e.stats.InitDoneSent.Load() }, "PortInitDone not sent")

	e.redis.Stop(t)
	e.send(ops(setOp("Ethernet0", down)))
	time.Sleep(1500 * time.Millisecond) // an outage longer than go-redis's own dial attempts (~0.4 s)
	e.redis.Start(t)
	appl, state := e.redis.Client(t, 0), e.redis.Client(t, 6)
	appl.HSet(ctx, "PORT_TABLE:Ethernet0", "lanes", "0") // orchagent's part
	e.eventually(func() bool {
		return cmp.Equal(fieldsOf("down", "down", "9100"), e.hgetall(state, "PORT_TABLE|Ethernet0"))
	}, "state not rewritten after the restart")
	e.eventually(func() bool {
		n, _ := appl.Exists(ctx, "_PORT_TABLE:PortInitDone", "_PORT_TABLE:PortConfigDone", "_PORT_TABLE:Ethernet0").Result()
		return n == 3
	}, "APPL_DB not republished after the restart")
	e.eventually(func() bool {
		v, _ := state.HGet(ctx, "WARM_RESTART_TABLE|portsyncd", "restore_count").Result()
		return v == "0"
	}, "restore_count not rewritten")
	for _, line := range []string{`msg="redis write failed"`, `msg="redis reachable again"`, `msg="STATE_DB server restarted; rewriting owned state"`} {
		if !strings.Contains(e.logs.String(), line) {
			t.Errorf("log lacks %s:\n%s", line, e.logs.String())
		}
	}
	if e.stats.RedisRestarts.Load() == 0 || e.stats.ConnRetries.Load() == 0 {
		t.Errorf("restarts %d retries %d, want both counted", e.stats.RedisRestarts.Load(), e.stats.ConnRetries.Load())
	}
}

// A restarted dbwriter asks for a dump and never publishes PortInitDone a
// second time.
func TestWriterRestart(t *testing.T) {
	e := newWriterEnv(t, warm)
	e.send(&messages.StateOps{InitDone: true})
	e.eventually(func() bool { return e.stats.InitDoneSent.Load() }, "PortInitDone not sent")
	e.appl.Del(context.Background(), "_PORT_TABLE:PortInitDone")
	e.root.Send(e.pid, &messages.InjectFault{Target: "dbwriter"})
	e.eventually(func() bool {
		e.box.mu.Lock()
		defer e.box.mu.Unlock()
		return e.box.resyncs == 1
	}, "no resync asked after the restart")
	e.send(&messages.StateOps{InitDone: true})
	e.flush()
	if n, _ := e.appl.Exists(context.Background(), "_PORT_TABLE:PortInitDone").Result(); n != 0 {
		t.Errorf("PortInitDone published again by the restarted writer")
	}
	if e.stats.Restarts.Load() != 1 {
		t.Errorf("restarts = %d, want 1", e.stats.Restarts.Load())
	}
}

// With keyspace events (as SONiC's Redis sends them), the writer follows
// APPL_DB PORT_TABLE: orchagent's hset releases a held write at once, a del
// stops the writes, and a lost subscription is made again with everything
// held checked again. The slow re-check is an hour: nothing here waits for
// it.
func TestWriterFollowsPortTableEvents(t *testing.T) {
	ctx := context.Background()
	e := newWriterEnvWith(t, warm, envOptions{notify: "AKE", recheck: time.Hour})
	e.eventually(func() bool { return e.stats.Watching.Load() }, "never watching keyspace events")

	// Held, then released by orchagent's HSET.
	e.send(ops(setOp("Ethernet0", up)))
	e.eventually(func() bool { return e.stats.NotInTable.Load() == 1 }, "Ethernet0 not held")
	e.appl.HSet(ctx, "PORT_TABLE:Ethernet0", "lanes", "0")
	e.eventually(func() bool { return e.box.acked("Ethernet0") }, "held Ethernet0 not released by the hset event")

	// Removed from PORT_TABLE while the netdev stays: no more writes.
	e.appl.Del(ctx, "PORT_TABLE:Ethernet0")
	e.eventually(func() bool { return e.stats.PortTableEvents.Load() >= 2 }, "del event not taken")
	e.send(ops(setOp("Ethernet0", down)))
	e.eventually(func() bool { return e.stats.NotInTable.Load() == 2 }, "Ethernet0 written after its PORT_TABLE entry was deleted")
	if diff := cmp.Diff(fieldsOf("up", "up", "9100"), e.hgetall(e.state, "PORT_TABLE|Ethernet0")); diff != "" {
		t.Errorf("Ethernet0 (-want +got):\n%s", diff)
	}

	// The entry comes back while no events are sent, and the subscription
	// is lost: on losing it the writer checks what it holds.
	if err := e.appl.ConfigSet(ctx, "notify-keyspace-events", "").Err(); err != nil {
		t.Fatal(err)
	}
	e.appl.HSet(ctx, "PORT_TABLE:Ethernet0", "lanes", "0")
	if err := e.appl.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	e.eventually(func() bool {
		return cmp.Equal(fieldsOf("down", "down", "9100"), e.hgetall(e.state, "PORT_TABLE|Ethernet0"))
	}, "held Ethernet0 not checked again after the subscription was lost")
	if e.stats.Watching.Load() {
		t.Errorf("watching with notify-keyspace-events off")
	}
	// Notifications back on: subscribed again (the server is asked again
	// after the re-check interval; an hour here, so restart the writer).
	if err := e.appl.ConfigSet(ctx, "notify-keyspace-events", "Khg").Err(); err != nil {
		t.Fatal(err)
	}
	e.root.Send(e.pid, &messages.InjectFault{Target: "dbwriter"})
	e.eventually(func() bool { return e.stats.Watching.Load() }, "not watching again after a restart")
}
