package actors

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Loop is one goroutine that runs the mailboxes of a group of actors (a
// pipeline's netlinkrx, portstate and dbwriter) and, when none has anything
// to do, waits for input on the group's Source: the netlink socket. It is
// the actors' protoactor-go dispatcher, so an actor on a Loop runs only on
// the Loop's goroutine, whoever sends to it. A sender from another goroutine
// (watchdog, HTTP handler, signal loop, timer, keyspace watcher) only posts
// and, if the Loop waits, wakes it.
//
// A message between two actors of the same Loop costs a queue append and no
// goroutine hand-off. The Loop reads its Source only when every mailbox on
// it is empty and none is suspended (an actor awaiting its restart): so a
// link batch is decided and written before the next is read, whatever
// arrives meanwhile waits in the kernel's socket buffer, and no mailbox on
// the Loop holds more than one batch.
type Loop struct {
	mu    sync.Mutex
	queue []func() // scheduled mailboxes, at most one entry each
	boxes []*Mailbox
	run   []func() // the queue being run, reused

	waiting atomic.Bool
	wake    chan struct{}
	source  atomic.Pointer[sourceBox]
	stop    chan struct{}
	done    chan struct{}

	// Polls counts the Source's polls, Wakeups the wake-ups from other
	// goroutines (for metrics and benchmarks).
	Polls, Wakeups atomic.Uint64
}

// Source is what a Loop waits on when its actors are idle.
type Source interface {
	// Poll blocks until input arrives or Interrupt is called, then hands
	// what it read to the actors by sending them messages. It runs on the
	// Loop's goroutine and calls awake once it no longer blocks (before it
	// sends anything), so that its own sends do not interrupt it. It must
	// not panic.
	Poll(awake func())
	// Interrupt makes a Poll in progress, or the next one, return soon. It
	// may be called from any goroutine, at any time.
	Interrupt()
}

type sourceBox struct{ Source }

// NewLoop starts a Loop's goroutine.
func NewLoop() *Loop {
	l := &Loop{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop()
	return l
}

// Schedule implements actor.Dispatcher: a mailbox with work is run on the
// Loop's goroutine, after what is already scheduled.
func (l *Loop) Schedule(fn func()) {
	l.mu.Lock()
	l.queue = append(l.queue, fn)
	l.mu.Unlock()
	if l.waiting.Load() {
		l.interrupt()
	}
}

// Throughput implements actor.Dispatcher: how many messages a mailbox runs
// before protoactor-go yields the goroutine.
func (l *Loop) Throughput() int { return 300 }

// SetSource makes src the Source (nil: none), normally from the Started of
// the actor that owns it.
func (l *Loop) SetSource(src Source) {
	if src == nil {
		l.source.Store(nil)
		return
	}
	l.source.Store(&sourceBox{src})
	if l.waiting.Load() {
		l.interrupt()
	}
}

// Option runs an actor on the Loop, with a mailbox of at most limit user
// messages; the mailbox is returned for its depth.
func (l *Loop) Option(limit int) (actor.PropsOption, *Mailbox) {
	mb := &Mailbox{limit: int32(limit)}
	l.mu.Lock()
	l.boxes = append(l.boxes, mb)
	l.mu.Unlock()
	return func(p *actor.Props) {
		actor.WithDispatcher(l)(p)
		mb.Option()(p)
	}, mb
}

// Close stops the goroutine once the mailbox it runs returns, waiting at
// most d: a wedged actor never returns.
func (l *Loop) Close(d time.Duration) {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.interrupt()
	select {
	case <-l.done:
	case <-time.After(d):
	}
}

func (l *Loop) interrupt() {
	l.Wakeups.Add(1)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	if s := l.source.Load(); s != nil {
		s.Interrupt()
	}
}

func (l *Loop) loop() {
	defer close(l.done)
	awake := func() { l.waiting.Store(false) }
	for {
		if l.runQueued() {
			continue
		}
		// Nothing to run: wait. waiting is set before the queue is looked
		// at again, so a Schedule either sees it and interrupts, or its work
		// is seen here.
		l.waiting.Store(true)
		if l.queued() {
			l.waiting.Store(false)
			continue
		}
		select {
		case <-l.stop:
			return
		default:
		}
		if s := l.source.Load(); s != nil && l.quiet() {
			l.Polls.Add(1)
			s.Poll(awake)
		} else {
			select {
			case <-l.wake:
			case <-l.stop:
				return
			}
		}
		l.waiting.Store(false)
	}
}

// runQueued runs what is scheduled; it reports whether there was anything.
func (l *Loop) runQueued() bool {
	l.mu.Lock()
	l.run, l.queue = l.queue, l.run[:0]
	l.mu.Unlock()
	for i, fn := range l.run {
		fn()
		l.run[i] = nil
	}
	return len(l.run) > 0
}

func (l *Loop) queued() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue) > 0
}

// quiet reports whether no mailbox on the Loop holds messages or awaits a
// restart: only then is new input read.
func (l *Loop) quiet() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, mb := range l.boxes {
		if mb.Depth() > 0 || mb.suspended.Load() {
			return false
		}
	}
	return true
}
