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
	"github.com/sonic-go/portsyncd/messages"
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
	// RcvBuf is the netlink receive buffer a restarted netlinkrx asks for.
	RcvBuf int
	// Credits bounds the link batches in flight (see package actors).
	Credits int
	// MaxBackoff caps the wait between Redis retries.
	MaxBackoff time.Duration
	// Recheck is dbwriter's re-check of ports not in APPL_DB PORT_TABLE
	// when Redis sends no keyspace events (dbwriter.Config.Recheck).
	Recheck time.Duration
	Logger  *slog.Logger
	Stats   *Stats
	// Observer is told each write's latency and batch size; may be nil.
	Observer dbwriter.Observer
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
	// Mailboxes watch each actor's mailbox, by role.
	Mailboxes map[string]*actors.MailboxGauge
	// Credits bound the batches in flight from netlinkrx to portstate.
	Credits *messages.Credits
}

// Actors returns the pipeline's actors by role.
func (p Pipeline) Actors() map[string]*actor.PID {
	return map[string]*actor.PID{"netlinkrx": p.Netlink, "portstate": p.Ports, "dbwriter": p.Writer}
}

// Spawn starts the pipeline's actors as children of parent. Each is spawned
// after the actors it sends to, so nothing it sends is lost.
func Spawn(parent actor.Context, cfg Config) (Pipeline, error) {
	self := parent.Self()
	name := func(role string) string { return cfg.Prefix + role }
	pid := func(role string) *actor.PID { return actor.NewPID(self.Address, self.Id+"/"+name(role)) }
	credits := messages.NewCredits(cfg.Credits)
	p := Pipeline{Netlink: pid("netlinkrx"), Ports: pid("portstate"), Writer: pid("dbwriter"),
		Mailboxes: make(map[string]*actors.MailboxGauge), Credits: credits}
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
			Recheck:    cfg.Recheck,
			Logger:     cfg.Logger.With("actor", name("dbwriter")),
			Stats:      &cfg.Stats.Writer,
			Observer:   cfg.Observer,
		})},
		{"portstate", portstate.New(portstate.Config{
			Writer:  p.Writer,
			Netlink: p.Netlink,
			Credits: credits,
			Start:   portstate.Start{Pending: st.Pending, Old: st.Old},
			Logger:  cfg.Logger.With("actor", name("portstate")),
			Stats:   &cfg.Stats.Ports,
		})},
		{"netlinkrx", netlinkrx.New(netlinkrx.Config{
			Ports:   p.Ports,
			Credits: credits,
			RcvBuf:  cfg.RcvBuf,
			Initial: st.Netlink,
			Logger:  cfg.Logger.With("actor", name("netlinkrx")),
			Stats:   &cfg.Stats.Netlink,
		})},
	}
	for _, a := range props {
		g := &actors.MailboxGauge{}
		p.Mailboxes[a.role] = g
		got, err := parent.SpawnNamed(a.props.Configure(g.Option()), name(a.role))
		if err != nil {
			return Pipeline{}, fmt.Errorf("pipeline: spawn %s: %w", name(a.role), err)
		}
		if !got.Equal(pid(a.role)) {
			return Pipeline{}, fmt.Errorf("pipeline: %s spawned as %s, want %s", a.role, got, pid(a.role))
		}
	}
	return p, nil
}
