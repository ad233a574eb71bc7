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
	Repeats      atomic.Uint64 // NEWLINKs dropped: nothing SONiC reads changed
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
	Ports  *actor.PID // portstate: receives LinkBatch
	Loop   *actors.Loop
	RcvBuf int // requested listen socket receive buffer, bytes
	// Netns is the file descriptor of the network namespace a restarted
	// netlinkrx opens its sockets in (see InNetns); 0: the process's own.
	Netns  int
	Logger *slog.Logger
	Stats  *Stats
	// Initial is used by the first incarnation only; a restarted netlinkrx
	// opens new sockets and dumps again.
	Initial *Start
}

// New returns the props of the netlinkrx actor; it is to run on cfg.Loop.
func New(cfg Config) *actor.Props {
	var incarnations atomic.Uint64
	return actor.PropsFromProducer(func() actor.Actor {
		return &linkReader{cfg: cfg, first: incarnations.Add(1) == 1}
	})
}

// linkReader is the actor. Its sockets are its Loop's Source: the Loop
// polls them when every actor on it is idle, on the Loop's goroutine, so
// reading, dumping and handling messages never run at once.
type linkReader struct {
	cfg   Config
	first bool
	self  *actor.PID
	root  *actor.RootContext

	socks  *Sockets
	dec    *Decoder
	last   *lastSeen
	buf    []byte // for ReadBatch, reused
	forged forgedLog
	failed bool // a failure was posted: read no more until the restart
}

// maxQueuedReads bounds the datagrams read without blocking per batch.
const maxQueuedReads = 256

// readFailed is posted by the reading side to its own actor when the
// socket fails in a way a resynchronisation cannot mend: the actor panics
// on it, and its restart opens new sockets.
type readFailed struct {
	owner *linkReader
	err   error
}

func (r *linkReader) Receive(ctx actor.Context) {
	defer actors.Rethrow()
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		r.start(ctx)
	case *actor.Stopping, *actor.Restarting:
		r.stop()
	case *messages.ResyncRequest:
		logging.Notice(r.cfg.Logger, "resync requested", "reason", msg.Reason)
		if r.socks != nil {
			r.resync("requested")
		}
	case *messages.InjectFault:
		actors.Fail(msg)
	case *messages.Heartbeat:
		ctx.Respond(&messages.Alive{})
	case *readFailed:
		if msg.owner == r {
			panic(msg.err)
		}
	case *messages.DumpState:
		s := r.cfg.Stats
		ctx.Respond(&messages.StateDump{Actor: "netlinkrx", State: map[string]any{
			"batches": s.Batches.Load(), "events": s.Events.Load(), "overruns": s.Overruns.Load(),
			"resyncs": s.Resyncs.Load(), "decode_errors": s.DecodeErrors.Load(), "forged": s.Forged.Load(),
			"repeats": s.Repeats.Load(), "rcvbuf": s.RcvBuf.Load(),
		}})
	}
}

func (r *linkReader) start(ctx actor.Context) {
	r.self, r.root = ctx.Self(), ctx.ActorSystem().Root
	r.dec, r.last, r.buf = NewDecoder(), newLastSeen(), make([]byte, 256<<10)
	var initial []messages.LinkEvent
	if st := r.cfg.Initial; r.first && st != nil {
		r.socks, initial = st.Sockets, st.Dump
	} else {
		socks, err := Open(r.cfg.RcvBuf, InNetns(r.cfg.Netns))
		if err != nil {
			panic(err)
		}
		r.socks = socks
	}
	r.cfg.Stats.RcvBuf.Store(int64(r.socks.RcvBuf))
	r.cfg.Loop.SetSource(&source{r: r, socks: r.socks})
	if initial != nil {
		r.noteForged() // during the start-up dump
		r.last.reset(initial)
		r.send(initial, true, time.Now())
		return
	}
	r.resync("restarted")
}

func (r *linkReader) stop() {
	r.cfg.Loop.SetSource(nil)
	if r.socks != nil {
		r.socks.Close()
		r.socks = nil
	}
}

// source is one incarnation's sockets as its Loop's Source.
type source struct {
	r     *linkReader
	socks *Sockets
}

// Interrupt wakes a blocked read: the deadline is cleared by Poll once the
// read returned, before the Loop looks at its queue again, so no wake-up
// is lost.
func (s *source) Interrupt() { s.socks.listen.SetReadDeadline(time.Now()) }

func (s *source) Poll(awake func()) {
	r := s.r
	defer func() {
		if p := recover(); p != nil {
			awake()
			r.fail(fmt.Errorf("netlinkrx: read panicked: %v", p))
		}
	}()
	if r.failed {
		awake()
		return
	}
	var events []messages.LinkEvent
	doubt := false
	take := func(typ uint16, data []byte) {
		if doubt {
			return
		}
		ev, err := r.dec.Decode(typ, data)
		if errors.Is(err, ErrNotLink) {
			return
		}
		if err != nil {
			r.cfg.Stats.DecodeErrors.Add(1)
			r.cfg.Logger.Warn("undecodable link message", "err", err)
			doubt = true
			return
		}
		if r.last.unchanged(ev) {
			// The kernel repeats NEWLINKs whose changes SONiC does not
			// read: dropped here, they cost nothing downstream.
			r.cfg.Stats.Repeats.Add(1)
			return
		}
		events = append(events, ev)
	}
	// Blocks for the first datagram; what queued up meanwhile goes in the
	// same batch.
	overrun, err := s.socks.ReadBatch(r.buf, maxQueuedReads, awake, take)
	awake()
	received := time.Now()
	r.noteForged()
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.socks.listen.SetReadDeadline(time.Time{})
		return
	case errors.Is(err, ErrMalformed):
		if !doubt {
			r.cfg.Stats.DecodeErrors.Add(1)
			r.cfg.Logger.Warn("unreadable netlink datagram", "err", err)
			doubt = true
		}
	default:
		r.fail(err)
		return
	}
	switch {
	case overrun:
		r.overrun()
	case doubt:
		// The dump supersedes whatever this read held.
		r.resync("decode error")
	case len(events) > 0:
		r.send(events, false, received)
	}
}

// fail hands a socket failure to the actor, which restarts.
func (r *linkReader) fail(err error) {
	r.failed = true
	r.root.Send(r.self, &readFailed{owner: r, err: err})
}

// overrun answers ENOBUFS: the kernel dropped events, and only a complete
// dump tells the truth. What is still queued dates from before the loss;
// replayed after the dump it would overwrite newer state, and the events
// that corrected it are the ones lost, so it is discarded first.
func (r *linkReader) overrun() {
	r.cfg.Stats.Overruns.Add(1)
	dropped, err := r.socks.Discard()
	if err != nil {
		r.fail(err)
		return
	}
	r.cfg.Logger.Warn("netlink receive buffer overrun", "rcvbuf", r.socks.RcvBuf, "stale_discarded", dropped)
	r.resync("overrun")
}

// resync dumps all links and sends them as one snapshot batch.
func (r *linkReader) resync(reason string) {
	events, err := r.socks.Dump(r.dec)
	r.noteForged()
	if err != nil {
		r.fail(err)
		return
	}
	logging.Notice(r.cfg.Logger, "links dumped", "reason", reason, "links", len(events))
	r.last.reset(events)
	r.send(events, true, time.Now())
}

// send hands a batch to portstate. It is counted after it is posted: a
// Resyncs count seen elsewhere means the dump is in portstate's mailbox.
func (r *linkReader) send(events []messages.LinkEvent, dump bool, received time.Time) {
	r.root.Send(r.cfg.Ports, &messages.LinkBatch{Events: events, Dump: dump, Received: received})
	s := r.cfg.Stats
	if dump {
		s.Resyncs.Add(1)
	}
	s.Batches.Add(1)
	s.Events.Add(uint64(len(events)))
	dels := 0
	for i := range events {
		if events[i].Kind == messages.DelLink {
			dels++
		}
	}
	s.DelLinks.Add(uint64(dels))
	s.NewLinks.Add(uint64(len(events) - dels))
}

// noteForged counts the datagrams the sockets dropped for not coming from
// the kernel, and warns about them at most once a second: a flood of them
// must not flood the log too.
func (r *linkReader) noteForged() {
	n, from := r.socks.TakeForged()
	if n == 0 {
		return
	}
	r.cfg.Stats.Forged.Add(uint64(n))
	if dropped, ok := r.forged.add(n, time.Now()); ok {
		r.cfg.Logger.Warn("netlink datagram not from the kernel dropped", "sender_pid", from, "dropped", dropped)
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
func (*readFailed) Essential() {}
