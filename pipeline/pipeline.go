package pipeline

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/actors/dbwriter"
	"github.com/sonic-go/portsyncd/actors/netlinkrx"
	"github.com/sonic-go/portsyncd/actors/portstate"
	"github.com/sonic-go/portsyncd/sonicdb"
	"github.com/sonic-go/portsyncd/startup"
)

// Config is one pipeline: a network namespace's links and its databases.
type Config struct {
	// Prefix starts the actors' names, so that pipelines of several
	// namespaces can live under one parent ("" for the host's).
	Prefix string
	DBs    *sonicdb.DBs
	Start  *startup.Result
	// Netns is the file descriptor of the network namespace whose links
	// the pipeline follows (a restarted netlinkrx opens its sockets
	// there); 0: the process's own.
	Netns int
	// RcvBuf is the netlink receive buffer a restarted netlinkrx asks for.
	RcvBuf int
	// MaxBackoff caps the wait between Redis retries.
	MaxBackoff time.Duration
	// RedisTimeout bounds one batch's round trips (dbwriter.Config.Timeout).
	RedisTimeout time.Duration
	// Recheck is dbwriter's re-check of ports not in APPL_DB PORT_TABLE
	// when Redis sends no keyspace events (dbwriter.Config.Recheck).
	Recheck time.Duration
	Logger  *slog.Logger
	Stats   *Stats
	// Observer is told each write's latency and batch size; may be nil.
	Observer dbwriter.Observer
	// Fatal is told of an error that must end the run (dbwriter.Config.Fatal).
	Fatal func(error)
}

// Stats gathers the pipeline's counters; they outlive actor restarts.
type Stats struct {
	Netlink netlinkrx.Stats
	Ports   portstate.Stats
	Writer  dbwriter.Stats
}

// Pipeline names the actors of one pipeline.
type Pipeline struct {
	Netlink, Ports, Writer *actor.PID
	// Mailboxes are each actor's mailbox, by role.
	Mailboxes map[string]*actors.Mailbox
	// Loop runs the three actors (see package actors).
	Loop *actors.Loop
}

// Actors returns the pipeline's actors by role.
func (p Pipeline) Actors() map[string]*actor.PID {
	return map[string]*actor.PID{"netlinkrx": p.Netlink, "portstate": p.Ports, "dbwriter": p.Writer}
}

// Spawn starts the pipeline's actors as children of parent, all three on
// one new actors.Loop; the caller closes it once they are stopped. Each is
// spawned after the actors it sends to, so nothing it sends is lost.
func Spawn(parent actor.Context, cfg Config) (Pipeline, error) {
	self := parent.Self()
	name := func(role string) string { return cfg.Prefix + role }
	pid := func(role string) *actor.PID { return actor.NewPID(self.Address, self.Id+"/"+name(role)) }
	p := Pipeline{Netlink: pid("netlinkrx"), Ports: pid("portstate"), Writer: pid("dbwriter"),
		Mailboxes: make(map[string]*actors.Mailbox), Loop: actors.NewLoop()}
	st := cfg.Start
	props := []struct {
		role  string
		props *actor.Props
	}{
		{"dbwriter", dbwriter.New(dbwriter.Config{
			DBs:        cfg.DBs,
			Owned:      dbwriter.Owned{ConfigPorts: st.Ports, ColdStart: !st.Warm, RestoreCount: st.RestoreCount},
			Acks:       p.Ports,
			Netlink:    p.Netlink,
			MaxBackoff: cfg.MaxBackoff,
			Timeout:    cfg.RedisTimeout,
			Recheck:    cfg.Recheck,
			Logger:     cfg.Logger.With("actor", name("dbwriter")),
			Stats:      &cfg.Stats.Writer,
			Observer:   cfg.Observer,
			Fatal:      cfg.Fatal,
		})},
		{"portstate", portstate.New(portstate.Config{
			Writer:  p.Writer,
			Netlink: p.Netlink,
			Start:   portstate.Start{Pending: st.Pending, Old: st.Old},
			Logger:  cfg.Logger.With("actor", name("portstate")),
			Stats:   &cfg.Stats.Ports,
		})},
		{"netlinkrx", netlinkrx.New(netlinkrx.Config{
			Ports:   p.Ports,
			Loop:    p.Loop,
			RcvBuf:  cfg.RcvBuf,
			Netns:   cfg.Netns,
			Initial: st.Netlink,
			Logger:  cfg.Logger.With("actor", name("netlinkrx")),
			Stats:   &cfg.Stats.Netlink,
		})},
	}
	for _, a := range props {
		onLoop, mb := p.Loop.Option(actors.DefaultMailboxLimit)
		p.Mailboxes[a.role] = mb
		got, err := parent.SpawnNamed(a.props.Configure(onLoop), name(a.role))
		if err != nil {
			p.Loop.Close(time.Second)
			return Pipeline{}, fmt.Errorf("pipeline: spawn %s: %w", name(a.role), err)
		}
		if !got.Equal(pid(a.role)) {
			p.Loop.Close(time.Second)
			return Pipeline{}, fmt.Errorf("pipeline: %s spawned as %s, want %s", a.role, got, pid(a.role))
		}
	}
	return p, nil
}
