package portstate

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonic"
)

// collector is an actor that hands every message it gets to a channel: it
// stands where dbwriter and netlinkrx would.
type collector chan any

func (c collector) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started, *actor.Stopping, *actor.Stopped:
		return
	}
	c <- ctx.Message()
}

func (c collector) next(t *testing.T) any {
	t.Helper()
	select {
	case m := <-c:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
		return nil
	}
}

type actorEnv struct {
	root            *actor.RootContext
	pid             *actor.PID
	writer, netlink collector
	stats           *Stats
}

func newActor(t *testing.T, st Start) *actorEnv {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log }))
	e := &actorEnv{root: system.Root, writer: make(collector, 16), netlink: make(collector, 16), stats: &Stats{}}
	w := e.root.Spawn(actor.PropsFromProducer(func() actor.Actor { return e.writer }))
	n := e.root.Spawn(actor.PropsFromProducer(func() actor.Actor { return e.netlink }))
	loop := actors.NewLoop()
	onLoop, _ := loop.Option(actors.DefaultMailboxLimit)
	e.pid = e.root.Spawn(New(Config{Writer: w, Netlink: n, Start: st, Logger: log, Stats: e.stats}).Configure(onLoop))
	t.Cleanup(func() {
		e.root.StopFuture(e.pid).Wait()
		loop.Close(time.Second)
		system.Shutdown()
	})
	return e
}

func (e *actorEnv) batch(b *messages.LinkBatch) {
	e.root.Send(e.pid, b)
}

func TestActorCarriesOutTheCore(t *testing.T) {
	e := newActor(t, Start{Pending: []string{"Ethernet0"}})
	e.batch(&messages.LinkBatch{Events: []messages.LinkEvent{
		newlink(10, "Ethernet0", upRunning, 9100), newlink(3, "eth0", upRunning, 1500)}})
	got := e.writer.next(t).(*messages.StateOps)
	if diff := cmp.Diff(&messages.StateOps{Ops: []messages.PortOp{set("Ethernet0", true, true, 9100)}}, got); diff != "" {
		t.Errorf("StateOps (-want +got):\n%s", diff)
	}
	if e.stats.Events.Load() != 2 || e.stats.Ignored[sonic.ReasonName].Load() != 1 || e.stats.Pending.Load() != 1 {
		t.Errorf("stats: events %d ignored(name) %d pending %d", e.stats.Events.Load(), e.stats.Ignored[sonic.ReasonName].Load(), e.stats.Pending.Load())
	}

	// Acknowledged: PortInitDone is asked for.
	e.root.Send(e.pid, &messages.StateWritten{Ports: []string{"Ethernet0"}})
	if diff := cmp.Diff(&messages.StateOps{InitDone: true}, e.writer.next(t)); diff != "" {
		t.Errorf("after the ack (-want +got):\n%s", diff)
	}

	// A rename and a vanished link are carried out as deletes.
	e.batch(&messages.LinkBatch{Events: []messages.LinkEvent{newlink(10, "Ethernet4", upRunning, 9100)}})
	got = e.writer.next(t).(*messages.StateOps)
	if diff := cmp.Diff([]messages.PortOp{del("Ethernet0"), set("Ethernet4", true, true, 9100)}, got.Ops); diff != "" {
		t.Errorf("rename (-want +got):\n%s", diff)
	}
	e.batch(&messages.LinkBatch{Dump: true})
	got = e.writer.next(t).(*messages.StateOps)
	if diff := cmp.Diff(&messages.StateOps{Ops: []messages.PortOp{del("Ethernet4")}, Present: map[string]bool{}}, got); diff != "" {
		t.Errorf("dump (-want +got):\n%s", diff)
	}
	if e.stats.Renames.Load() != 1 || e.stats.Vanished.Load() != 1 {
		t.Errorf("renames %d vanished %d, want 1 and 1", e.stats.Renames.Load(), e.stats.Vanished.Load())
	}

	// Events that change nothing SONiC writes send nothing.
	e.batch(&messages.LinkBatch{Events: []messages.LinkEvent{newlink(3, "eth0", 0, 1500)}})
	for _, req := range []any{&messages.Heartbeat{}, &messages.Flush{}, &messages.DumpState{}} {
		if _, err := e.root.RequestFuture(e.pid, req, 5*time.Second).Result(); err != nil {
			t.Fatalf("%T: %v", req, err)
		}
	}
	select {
	case m := <-e.writer:
		t.Errorf("unexpected message to dbwriter: %#v", m)
	default:
	}
}

func TestActorRestartAsksForADumpAndWaitsForIt(t *testing.T) {
	e := newActor(t, Start{})
	e.root.Send(e.pid, &messages.InjectFault{Target: "portstate"})
	if diff := cmp.Diff(&messages.ResyncRequest{Reason: "portstate restarted"}, e.netlink.next(t)); diff != "" {
		t.Errorf("after a restart (-want +got):\n%s", diff)
	}
	if e.stats.Restarts.Load() != 1 {
		t.Errorf("restarts = %d, want 1", e.stats.Restarts.Load())
	}
	// A live event before the dump is dropped; the dump rebuilds.
	e.batch(&messages.LinkBatch{Events: []messages.LinkEvent{newlink(10, "Ethernet0", upRunning, 9100)}})
	e.batch(&messages.LinkBatch{Dump: true, Events: []messages.LinkEvent{newlink(10, "Ethernet0", 0, 9100)}})
	got := e.writer.next(t).(*messages.StateOps)
	if diff := cmp.Diff([]messages.PortOp{forced(set("Ethernet0", false, false, 9100))}, got.Ops); diff != "" {
		t.Errorf("first ops after the restart (-want +got):\n%s", diff)
	}
}
