package test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jsimonetti/rtnetlink/v2"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/actors/dbwriter"
	"github.com/sonic-go/portsyncd/actors/netlinkrx"
	"github.com/sonic-go/portsyncd/actors/portstate"
	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonicdb"
	"github.com/sonic-go/portsyncd/test/harness"
)

// BenchmarkPipeline measures the in-process hot path against a real
// redis-server: decoding rtnetlink messages, portstate's decisions, and
// dbwriter's coalescing, pipelined writes. Each event changes a port's MTU,
// ports round-robin; b.N events end when Redis acknowledged them.
// The actors run on an actors.Loop, fed by a Source as netlinkrx's socket
// feeds them.
//
// The log level is SONiC's default (NOTICE: a line per state written) or
// DEBUG (a line per event as well), through slog's text handler into
// io.Discard: the cost of logging per event, without the output's.
func BenchmarkPipeline(b *testing.B) {
	for _, level := range []slog.Level{logging.LevelNotice, logging.LevelDebug} {
		for _, perBatch := range []int{1, 64} {
			b.Run(fmt.Sprintf("log=%s/ports=64/events_per_read=%d", logging.LevelName(level), perBatch), func(b *testing.B) {
				benchPipeline(b, 64, perBatch, level)
			})
		}
	}
}

func benchPipeline(b *testing.B, ports, perBatch int, level slog.Level) {
	harness.RequireRoot(b)
	r := harness.StartRedis(b)
	cfg, err := dbconfig.Load(r.WriteDBConfig(b))
	if err != nil {
		b.Fatal(err)
	}
	dbs, err := sonicdb.Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer dbs.Close()
	ctx := context.Background()
	appl := r.Client(b, 0)
	for i := 0; i < ports; i++ {
		appl.HSet(ctx, fmt.Sprintf("PORT_TABLE:Ethernet%d", 4*i), "admin_status", "up")
	}

	// Two messages per port, MTU 9000 and 9001: consecutive events of a
	// port always change it.
	msgs := make([][]byte, 2*ports)
	for i := range msgs {
		m := rtnetlink.LinkMessage{Index: uint32(100 + i%ports), Flags: 0x41, Attributes: &rtnetlink.LinkAttributes{
			Name: fmt.Sprintf("Ethernet%d", 4*(i%ports)), MTU: uint32(9000 + i/ports)}}
		if msgs[i], err = m.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}

	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level}))
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log }))
	root := system.Root
	loop := actors.NewLoop()
	defer loop.Close(time.Second)
	writerStats := &dbwriter.Stats{}
	writer := actor.NewPID(system.Address(), "dbwriter")
	portstatePID := actor.NewPID(system.Address(), "portstate")
	nowhere := actor.NewPID(system.Address(), "netlinkrx") // no restart asks for a dump here
	onLoop, _ := loop.Option(actors.DefaultMailboxLimit)
	if _, err := root.SpawnNamed(dbwriter.New(dbwriter.Config{
		DBs: dbs, Acks: portstatePID, Netlink: nowhere, MaxBackoff: time.Second, Logger: log, Stats: writerStats,
	}).Configure(onLoop), writer.Id); err != nil {
		b.Fatal(err)
	}
	onLoop, _ = loop.Option(actors.DefaultMailboxLimit)
	if _, err := root.SpawnNamed(portstate.New(portstate.Config{
		Writer: writer, Netlink: nowhere, Start: portstate.Start{Old: map[uint32]bool{}},
		Logger: log, Stats: &portstate.Stats{},
	}).Configure(onLoop), portstatePID.Id); err != nil {
		b.Fatal(err)
	}
	defer func() {
		root.StopFuture(portstatePID).Wait()
		root.StopFuture(writer).Wait()
	}()

	// The source stands where netlinkrx's socket does: on the Loop, when
	// both actors are idle, it decodes the next read's worth of messages.
	dec := netlinkrx.NewDecoder()
	done := make(chan struct{})
	src := &benchSource{wake: make(chan struct{}, 1)}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	src.poll = func(awake func()) bool {
		if i >= b.N {
			return false
		}
		awake()
		n := min(perBatch, b.N-i)
		events := make([]messages.LinkEvent, n)
		for j := range events {
			ev, err := dec.Decode(16, msgs[(i+j)%len(msgs)])
			if err != nil {
				panic(err)
			}
			events[j] = ev
		}
		i += n
		root.Send(portstatePID, &messages.LinkBatch{Events: events})
		if i >= b.N {
			close(done)
		}
		return true
	}
	loop.SetSource(src)
	loop.Schedule(func() {}) // wakes the Loop to poll
	<-done
	for _, pid := range []*actor.PID{portstatePID, writer} {
		if _, err := root.RequestFuture(pid, &messages.Flush{}, time.Minute).Result(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(writerStats.Batches.Load())/float64(b.N), "redis_batches/event")
	b.ReportMetric(float64(writerStats.Writes.Load())/float64(b.N), "hsets/event")
}

// benchSource is an actors.Source that produces input from poll until it
// has no more, then blocks until interrupted.
type benchSource struct {
	// poll produces the next read, calling awake first, and reports
	// whether there was one.
	poll func(awake func()) bool
	wake chan struct{}
}

func (s *benchSource) Poll(awake func()) {
	if s.poll(awake) {
		return
	}
	<-s.wake
	awake()
}

func (s *benchSource) Interrupt() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
