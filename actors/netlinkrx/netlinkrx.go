package netlinkrx

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/messages"
)

// Stats are netlinkrx's counters. They outlive restarts of the actor.
type Stats struct {
	Batches      atomic.Uint64 // link batches sent to portstate
	Events       atomic.Uint64 // link events sent to portstate
	NewLinks     atomic.Uint64 // RTM_NEWLINK among them (live and dumped)
	DelLinks     atomic.Uint64 // RTM_DELLINK among them
	Overruns     atomic.Uint64 // ENOBUFS on the listen socket: events were lost
	Resyncs      atomic.Uint64 // complete dumps sent, start-up included
	DecodeErrors atomic.Uint64 // messages that could not be decoded
	Forged       atomic.Uint64 // datagrams dropped: not sent by the kernel
	Unchanged    atomic.Uint64 // NEWLINKs dropped: nothing SONiC reads changed
	RcvBuf       atomic.Int64  // receive buffer size the kernel granted
}

// Start is what start-up hands the first incarnation of netlinkrx: sockets
// joined before the start-up dump, and that dump.
type Start struct {
	Sockets *Sockets
	Dump    []messages.LinkEvent
}

// Config is netlinkrx's wiring; it does not change after spawn.
type Config struct {
	Ports   *actor.PID // portstate: receives LinkBatch
	Credits *messages.Credits
	RcvBuf  int // requested listen socket receive buffer, bytes
	Logger  *slog.Logger
	Stats   *Stats
	// Initial is used by the first incarnation only; a restarted netlinkrx
	// opens new sockets and dumps again.
	Initial *Start
}

// New returns the props of the netlinkrx actor.
func New(cfg Config) *actor.Props {
	var incarnations atomic.Uint64
	return actor.PropsFromProducer(func() actor.Actor {
		return &receiver{cfg: cfg, first: incarnations.Add(1) == 1}
	})
}

type receiver struct {
	cfg   Config
	first bool
	rd    *reader
}

// maxQueuedReads bounds the datagrams read without blocking per batch.
const maxQueuedReads = 256

// readerFailed is sent by the reader goroutine to its actor when the socket
// fails in a way a resynchronisation cannot mend.
type readerFailed struct {
	rd  *reader
	err error
}

func (r *receiver) Receive(ctx actor.Context) {
	defer actors.Rethrow()
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		r.start(ctx)
	case *actor.Stopping, *actor.Restarting:
		if r.rd != nil {
			r.rd.stop()
			r.rd = nil
		}
	case *messages.ResyncRequest:
		logging.Notice(r.cfg.Logger, "resync requested", "reason", msg.Reason)
		if r.rd != nil {
			r.rd.requestResync()
		}
	case *messages.InjectFault:
		actors.Fail(msg)
	case *messages.Heartbeat:
		ctx.Respond(&messages.Alive{})
	case *readerFailed:
		if msg.rd != r.rd {
			return // the reader of an incarnation before a restart
		}
		// Restarting gives fresh sockets and a complete dump.
		panic(msg.err)
	case *messages.DumpState:
		ctx.Respond(&messages.StateDump{Actor: "netlinkrx", State: map[string]any{
			"batches":       r.cfg.Stats.Batches.Load(),
			"events":        r.cfg.Stats.Events.Load(),
			"overruns":      r.cfg.Stats.Overruns.Load(),
			"resyncs":       r.cfg.Stats.Resyncs.Load(),
			"decode_errors": r.cfg.Stats.DecodeErrors.Load(),
			"forged":        r.cfg.Stats.Forged.Load(),
			"unchanged":     r.cfg.Stats.Unchanged.Load(),
			"rcvbuf":        r.cfg.Stats.RcvBuf.Load(),
			"credits_used":  r.cfg.Credits.InUse(),
		}})
	}
}

func (r *receiver) start(ctx actor.Context) {
	rd := &reader{
		cfg:     &r.cfg,
		root:    ctx.ActorSystem().Root,
		self:    ctx.Self(),
		dec:     NewDecoder(),
		last:    newLastSeen(),
		buf:     make([]byte, 256<<10),
		stopped: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if st := r.cfg.Initial; r.first && st != nil {
		rd.socks, rd.initial = st.Sockets, st.Dump
	} else {
		socks, err := Open(r.cfg.RcvBuf)
		if err != nil {
			panic(err)
		}
		rd.socks = socks
		rd.resyncWanted.Store(true)
	}
	r.cfg.Stats.RcvBuf.Store(int64(rd.socks.RcvBuf))
	r.rd = rd
	go rd.run()
}

// reader owns the sockets: it blocks in Receive, decodes, and sends batches.
// It also takes every dump, so a dump and the live events around it reach
// portstate in the order the kernel produced them: a newer event is never
// overwritten by an older dump entry.
type reader struct {
	cfg     *Config
	root    *actor.RootContext
	self    *actor.PID
	socks   *Sockets
	dec     *Decoder
	last    *lastSeen
	buf     []byte // for ReadBatch, reused
	forged  forgedLog
	initial []messages.LinkEvent

	resyncWanted atomic.Bool
	stopping     atomic.Bool
	stopped      chan struct{}
	done         chan struct{}
}

func (rd *reader) requestResync() {
	rd.resyncWanted.Store(true)
	// Wake the blocked Receive; run resets the deadline before it looks at
	// the flags, so no request is missed.
	rd.socks.listen.SetReadDeadline(time.Now())
}

func (rd *reader) stop() {
	rd.stopping.Store(true)
	close(rd.stopped)
	rd.socks.listen.SetReadDeadline(time.Now())
	<-rd.done
	rd.socks.Close()
}

func (rd *reader) run() {
	defer close(rd.done)
	defer func() {
		if p := recover(); p != nil {
			rd.root.Send(rd.self, &readerFailed{rd: rd, err: fmt.Errorf("netlinkrx: reader panicked: %v", p)})
		}
	}()
	if rd.initial != nil {
		rd.noteForged() // during the start-up dump
		rd.last.reset(rd.initial)
		rd.send(rd.initial, true, time.Now())
		rd.initial = nil
	}
	for !rd.stopping.Load() {
		if rd.resyncWanted.Swap(false) {
			if !rd.resync("requested") {
				return
			}
		}
		var events []messages.LinkEvent
		doubt := false
		take := func(typ uint16, data []byte) {
			if doubt {
				return
			}
			ev, err := rd.dec.Decode(typ, data)
			if errors.Is(err, ErrNotLink) {
				return
			}
			if err != nil {
				rd.cfg.Stats.DecodeErrors.Add(1)
				rd.cfg.Logger.Warn("undecodable link message", "err", err)
				doubt = true
				return
			}
			if rd.last.unchanged(ev) {
				// The kernel repeats NEWLINKs whose changes SONiC does not
				// read: dropped here, they cost nothing downstream.
				rd.cfg.Stats.Unchanged.Add(1)
				return
			}
			events = append(events, ev)
		}
		// Blocks for the first datagram; what queued up meanwhile goes in
		// the same batch.
		overrun, err := rd.socks.ReadBatch(rd.buf, maxQueuedReads, take)
		received := time.Now()
		rd.noteForged()
		switch {
		case err == nil:
		case rd.stopping.Load():
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			rd.socks.listen.SetReadDeadline(time.Time{})
			continue
		case errors.Is(err, ErrMalformed):
			if !doubt {
				rd.cfg.Stats.DecodeErrors.Add(1)
				rd.cfg.Logger.Warn("unreadable netlink datagram", "err", err)
				doubt = true
			}
		default:
			rd.root.Send(rd.self, &readerFailed{rd: rd, err: err})
			return
		}
		if overrun {
			if !rd.overrun() {
				return
			}
			continue
		}
		if doubt {
			// The dump supersedes whatever this read held.
			if !rd.resync("decode error") {
				return
			}
			continue
		}
		if len(events) > 0 && !rd.send(events, false, received) {
			return
		}
	}
}

// overrun answers ENOBUFS: the kernel dropped events, and only a complete
// dump tells the truth. What is still queued dates from before the loss;
// replayed after the dump it would overwrite newer state, and the events
// that corrected it are the ones lost, so it is discarded first.
func (rd *reader) overrun() bool {
	rd.cfg.Stats.Overruns.Add(1)
	dropped, err := rd.socks.Discard()
	if err != nil {
		rd.root.Send(rd.self, &readerFailed{rd: rd, err: err})
		return false
	}
	rd.cfg.Logger.Warn("netlink receive buffer overrun", "rcvbuf", rd.socks.RcvBuf, "stale_discarded", dropped)
	return rd.resync("overrun")
}

// resync dumps all links and sends them as one snapshot batch.
func (rd *reader) resync(reason string) bool {
	events, err := rd.socks.Dump(rd.dec)
	rd.noteForged()
	if err != nil {
		if rd.stopping.Load() {
			return false
		}
		rd.root.Send(rd.self, &readerFailed{rd: rd, err: err})
		return false
	}
	logging.Notice(rd.cfg.Logger, "links dumped", "reason", reason, "links", len(events))
	rd.last.reset(events)
	return rd.send(events, true, time.Now())
}

func (rd *reader) send(events []messages.LinkEvent, dump bool, received time.Time) bool {
	if !rd.cfg.Credits.Acquire(rd.stopped) {
		return false
	}
	if dump {
		rd.cfg.Stats.Resyncs.Add(1)
	}
	rd.cfg.Stats.Batches.Add(1)
	rd.cfg.Stats.Events.Add(uint64(len(events)))
	dels := 0
	for i := range events {
		if events[i].Kind == messages.DelLink {
			dels++
		}
	}
	rd.cfg.Stats.DelLinks.Add(uint64(dels))
	rd.cfg.Stats.NewLinks.Add(uint64(len(events) - dels))
	rd.root.Send(rd.cfg.Ports, &messages.LinkBatch{Events: events, Dump: dump, Received: received})
	return true
}

// noteForged counts the datagrams the sockets dropped for not coming from
// the kernel, and warns about them at most once a second: a flood of them
// must not flood the log too.
func (rd *reader) noteForged() {
	n, from := rd.socks.TakeForged()
	if n == 0 {
		return
	}
	rd.cfg.Stats.Forged.Add(uint64(n))
	if dropped, ok := rd.forged.add(n, time.Now()); ok {
		rd.cfg.Logger.Warn("netlink datagram not from the kernel dropped", "sender_pid", from, "dropped", dropped)
	}
}

// forgedLog rate-limits the warning about forged datagrams.
type forgedLog struct {
	last     time.Time
	unlogged int
}

// forgedLogEvery is the least time between two warnings.
const forgedLogEvery = time.Second

// add notes n more forged datagrams at now, and reports whether to log, with
// how many were dropped since the last line.
func (l *forgedLog) add(n int, now time.Time) (dropped int, log bool) {
	l.unlogged += n
	if !l.last.IsZero() && now.Sub(l.last) < forgedLogEvery {
		return 0, false
	}
	dropped, l.unlogged, l.last = l.unlogged, 0, now
	return dropped, true
}
