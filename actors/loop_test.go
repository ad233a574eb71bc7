package actors

import (
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

const waitFor = 10 * time.Second

// recorder is an actor that records the goroutine each message ran on and
// answers requests.
type recorder struct {
	mu   sync.Mutex
	gids []uint64
	got  []any
	// onMsg, if set, runs in Receive for every user message.
	onMsg func(ctx actor.Context)
}

func (r *recorder) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
		return
	}
	r.mu.Lock()
	r.gids = append(r.gids, goid())
	r.got = append(r.got, ctx.Message())
	r.mu.Unlock()
	if r.onMsg != nil {
		r.onMsg(ctx)
	}
	if ctx.Sender() != nil {
		ctx.Respond(ctx.Message())
	}
}

func (r *recorder) goroutines() map[uint64]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	set := make(map[uint64]bool)
	for _, g := range r.gids {
		set[g] = true
	}
	return set
}

// goid is the running goroutine's id, read from its stack header.
func goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	var id uint64
	for _, c := range buf[len("goroutine "):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

func newSystem(t *testing.T) *actor.RootContext {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log }))
	t.Cleanup(system.Shutdown)
	return system.Root
}

func spawnOn(t *testing.T, root *actor.RootContext, l *Loop, a actor.Actor, limit int) (*actor.PID, *Mailbox) {
	t.Helper()
	opt, mb := l.Option(limit)
	pid := root.Spawn(actor.PropsFromProducer(func() actor.Actor { return a }).Configure(opt))
	t.Cleanup(func() { root.StopFuture(pid).Wait() })
	return pid, mb
}

// Every actor on a Loop runs on the Loop's one goroutine, whoever sends to
// it: requests from many goroutines never run actor code on theirs.
func TestLoopRunsActorsOnItsGoroutineOnly(t *testing.T) {
	root := newSystem(t)
	l := NewLoop()
	t.Cleanup(func() { l.Close(time.Second) })
	a, b := &recorder{}, &recorder{}
	pa, _ := spawnOn(t, root, l, a, 1000)
	pb, _ := spawnOn(t, root, l, b, 1000)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				for _, pid := range []*actor.PID{pa, pb} {
					if _, err := root.RequestFuture(pid, i, waitFor).Result(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	ga, gb := a.goroutines(), b.goroutines()
	if len(ga) != 1 || len(gb) != 1 {
		t.Fatalf("actors ran on %d and %d goroutines, want 1 each", len(ga), len(gb))
	}
	for g := range ga {
		if !gb[g] {
			t.Errorf("the two actors ran on different goroutines: %v %v", ga, gb)
		}
	}
}

// A message between two actors of a Loop runs after the sender's Receive
// returns, in order, with no other goroutine involved.
func TestLoopMessagesBetweenActorsKeepOrder(t *testing.T) {
	root := newSystem(t)
	l := NewLoop()
	t.Cleanup(func() { l.Close(time.Second) })
	sink := &recorder{}
	psink, _ := spawnOn(t, root, l, sink, 1000)
	fwd := &recorder{onMsg: func(ctx actor.Context) {
		if n, ok := ctx.Message().(int); ok {
			ctx.Send(psink, n)
		}
	}}
	pfwd, _ := spawnOn(t, root, l, fwd, 1000)
	for i := 0; i < 100; i++ {
		root.Send(pfwd, i)
	}
	if _, err := root.RequestFuture(pfwd, "sync", waitFor).Result(); err != nil {
		t.Fatal(err)
	}
	if _, err := root.RequestFuture(psink, "sync", waitFor).Result(); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for i := 0; i < 100; i++ {
		if sink.got[i] != i {
			t.Fatalf("message %d is %v: order lost", i, sink.got[i])
		}
	}
}

// fakeSource is a Source that produces one batch per Poll from its queue,
// and blocks while the queue is empty.
type fakeSource struct {
	mu      sync.Mutex
	inputs  []int
	wake    chan struct{}
	deliver func(int)
	polls   atomic.Int64
	// busy is set while any actor on the Loop is running a message.
	busy    *atomic.Bool
	sawBusy atomic.Bool
}

func (s *fakeSource) Poll(awake func()) {
	s.polls.Add(1)
	if s.busy.Load() {
		s.sawBusy.Store(true)
	}
	s.mu.Lock()
	if len(s.inputs) > 0 {
		n := s.inputs[0]
		s.inputs = s.inputs[1:]
		s.mu.Unlock()
		awake()
		s.deliver(n)
		return
	}
	s.mu.Unlock()
	<-s.wake
	awake()
}

func (s *fakeSource) Interrupt() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *fakeSource) add(n int) {
	s.mu.Lock()
	s.inputs = append(s.inputs, n)
	s.mu.Unlock()
	s.Interrupt()
}

// The Source is polled only while every mailbox on the Loop is empty: each
// input is fully handled (here: passed through two actors) before the next
// is read, so no mailbox ever holds more than one.
func TestLoopPollsOnlyWhenActorsAreIdle(t *testing.T) {
	root := newSystem(t)
	l := NewLoop()
	t.Cleanup(func() { l.Close(time.Second) })
	var busy atomic.Bool
	last := &recorder{onMsg: func(actor.Context) { busy.Store(true); time.Sleep(time.Millisecond); busy.Store(false) }}
	plast, mbLast := spawnOn(t, root, l, last, 1000)
	first := &recorder{onMsg: func(ctx actor.Context) {
		if _, ok := ctx.Message().(int); !ok {
			return
		}
		busy.Store(true)
		ctx.Send(plast, ctx.Message())
		busy.Store(false)
	}}
	pfirst, mbFirst := spawnOn(t, root, l, first, 1000)
	src := &fakeSource{wake: make(chan struct{}, 1), busy: &busy}
	src.deliver = func(n int) { root.Send(pfirst, n) }
	l.SetSource(src)
	for i := 0; i < 50; i++ {
		src.add(i)
	}
	deadline := time.Now().Add(waitFor)
	for {
		last.mu.Lock()
		n := len(last.got)
		last.mu.Unlock()
		if n == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 50 inputs handled", n)
		}
		time.Sleep(time.Millisecond)
	}
	if src.sawBusy.Load() {
		t.Errorf("the source was polled while an actor ran")
	}
	if mbFirst.Peak() > 1 || mbLast.Peak() > 1 {
		t.Errorf("mailbox peaks %d and %d, want at most 1: input read before the last was handled", mbFirst.Peak(), mbLast.Peak())
	}
}

// A message posted from another goroutine wakes a Loop blocked in its
// Source.
func TestLoopWakesFromSourceForMessages(t *testing.T) {
	root := newSystem(t)
	l := NewLoop()
	t.Cleanup(func() { l.Close(time.Second) })
	r := &recorder{}
	pid, _ := spawnOn(t, root, l, r, 1000)
	src := &fakeSource{wake: make(chan struct{}, 1), busy: new(atomic.Bool), deliver: func(int) {}}
	l.SetSource(src)
	for i := 0; i < 200; i++ {
		if _, err := root.RequestFuture(pid, i, waitFor).Result(); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if src.polls.Load() == 0 {
		t.Errorf("the source was never polled")
	}
}

// A mailbox holds at most its limit of messages from other goroutines;
// what comes beyond is dropped and counted, and the sender is not held up.
// Essential messages are never dropped.
func TestMailboxBound(t *testing.T) {
	root := newSystem(t)
	l := NewLoop()
	t.Cleanup(func() { l.Close(time.Second) })
	gate := make(chan struct{})
	r := &recorder{onMsg: func(ctx actor.Context) {
		if ctx.Message() == "block" {
			<-gate
		}
	}}
	pid, mb := spawnOn(t, root, l, r, 8)
	root.Send(pid, "block")
	deadline := time.Now().Add(waitFor)
	for mb.Depth() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the blocking message was not taken")
		}
		time.Sleep(time.Millisecond)
	}
	for i := 0; i < 100; i++ {
		root.Send(pid, i)
	}
	root.Send(pid, &essentialMsg{})
	if mb.Depth() != 9 || mb.Dropped() != 92 {
		t.Errorf("depth %d dropped %d, want 9 (8 and the essential one) and 92", mb.Depth(), mb.Dropped())
	}
	close(gate)
	for mb.Depth() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the mailbox did not drain")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := root.RequestFuture(pid, "sync", waitFor).Result(); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// block, 0..7, the essential one, sync
	if len(r.got) != 11 {
		t.Errorf("actor got %d messages, want 11", len(r.got))
	}
	if _, ok := r.got[9].(*essentialMsg); !ok {
		t.Errorf("the essential message was not delivered: %v", r.got)
	}
	if mb.Peak() != 9 {
		t.Errorf("peak %d, want 9", mb.Peak())
	}
}

type essentialMsg struct{}

func (*essentialMsg) Essential() {}

// A panicking actor on a Loop is restarted; the Loop and its other actors
// go on.
func TestLoopSurvivesAPanic(t *testing.T) {
	root := newSystem(t)
	l := NewLoop()
	t.Cleanup(func() { l.Close(time.Second) })
	bad := &recorder{onMsg: func(ctx actor.Context) {
		if ctx.Message() == "panic" {
			panic("on purpose")
		}
	}}
	pbad, mb := spawnOn(t, root, l, bad, 100)
	good := &recorder{}
	pgood, _ := spawnOn(t, root, l, good, 100)
	root.Send(pbad, "panic")
	for _, pid := range []*actor.PID{pgood, pbad} {
		if _, err := root.RequestFuture(pid, "after", waitFor).Result(); err != nil {
			t.Fatalf("after the panic: %v", err)
		}
	}
	if mb.suspended.Load() {
		t.Errorf("mailbox still marked suspended after the restart")
	}
}
