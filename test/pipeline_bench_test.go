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
// redis-server: decoding rtnetlink messages, portstate, and dbwriter's coalescing, pipelined writes. Each event changes a
// port's MTU, ports round-robin; b.N events end when Redis acknowledged them.
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
	credits := messages.NewCredits(256)
	writerStats := &dbwriter.Stats{}
	writer := actor.NewPID(system.Address(), "dbwriter")
	router := actor.NewPID(system.Address(), "portstate")
	nowhere := actor.NewPID(system.Address(), "netlinkrx") // no restart asks for a dump here
	if _, err := root.SpawnNamed(dbwriter.New(dbwriter.Config{
		DBs: dbs, Acks: router, Netlink: nowhere, MaxBackoff: time.Second, Logger: log, Stats: writerStats,
	}), writer.Id); err != nil {
		b.Fatal(err)
	}
	if _, err := root.SpawnNamed(portstate.New(portstate.Config{
		Writer: writer, Netlink: nowhere, Credits: credits, Start: portstate.Start{Old: map[uint32]bool{}},
		Logger: log, Stats: &portstate.Stats{},
	}), router.Id); err != nil {
		b.Fatal(err)
	}
	defer func() {
		root.StopFuture(router).Wait()
		root.StopFuture(writer).Wait()
	}()
	flush := func() {
		for _, pid := range []*actor.PID{router, writer} {
			if _, err := root.RequestFuture(pid, &messages.Flush{}, time.Minute).Result(); err != nil {
				b.Fatal(err)
			}
		}
	}

	dec := netlinkrx.NewDecoder()
	stop := make(chan struct{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		n := min(perBatch, b.N-i)
		events := make([]messages.LinkEvent, n)
		for j := range events {
			ev, err := dec.Decode(16, msgs[(i+j)%len(msgs)])
			if err != nil {
				b.Fatal(err)
			}
			events[j] = ev
		}
		credits.Acquire(stop)
		root.Send(router, &messages.LinkBatch{Events: events})
		i += n
	}
	flush()
	b.StopTimer()
	b.ReportMetric(float64(writerStats.Batches.Load())/float64(b.N), "redis_batches/event")
	b.ReportMetric(float64(writerStats.Writes.Load())/float64(b.N), "hsets/event")
}
