package supervisor

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/messages"
)

func TestRecordCountsWithinTheWindow(t *testing.T) {
	base := time.Unix(1000, 0)
	tests := []struct {
		name  string
		at    []time.Duration // failure times after base
		wants []int
	}{
		{"each failure within the window counts", []time.Duration{0, time.Second, 2 * time.Second}, []int{1, 2, 3}},
		{"failures older than the window are forgotten", []time.Duration{0, 30 * time.Second, 61 * time.Second}, []int{1, 2, 2}},
		{"a long quiet spell starts afresh", []time.Duration{0, time.Second, 5 * time.Minute}, []int{1, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &strategy{Policy: Policy{Window: time.Minute}}
			for i, d := range tt.at {
				if got := s.record(base.Add(d)); got != tt.wants[i] {
					t.Errorf("failure %d: %d within the window, want %d", i, got, tt.wants[i])
				}
			}
		})
	}
}

// failing is a child that panics on InjectFault and says when it starts.
type failing struct{ started chan<- struct{} }

func (f failing) Receive(ctx actor.Context) {
	defer actors.Rethrow()
	switch m := ctx.Message().(type) {
	case *actor.Started:
		f.started <- struct{}{}
	case *messages.InjectFault:
		actors.Fail(m)
	}
}

// A failing child is restarted up to MaxRestarts times; one more gives up
// with an error naming the child.
func TestSupervisorRestartsThenGivesUp(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log }))
	defer system.Shutdown()
	gaveUp := make(chan error, 1)
	started := make(chan struct{}, 8)
	child := make(chan *actor.PID, 1)
	restarts := &Restarts{}
	policy := Policy{MaxRestarts: 2, Window: time.Minute, Logger: log, GiveUp: func(err error) { gaveUp <- err }}
	system.Root.Spawn(New(policy, restarts, func(ctx actor.Context) error {
		pid, err := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return failing{started} }), "child")
		child <- pid
		return err
	}))
	pid := <-child
	wait := func(what string) {
		t.Helper()
		select {
		case <-started:
		case err := <-gaveUp:
			t.Fatalf("gave up (%v) waiting for the child's %s", err, what)
		case <-time.After(10 * time.Second):
			t.Fatalf("the child's %s never came", what)
		}
	}
	wait("start")
	for i := range 2 {
		system.Root.Send(pid, &messages.InjectFault{Target: "child"})
		wait(fmt.Sprintf("restart %d", i+1))
	}
	system.Root.Send(pid, &messages.InjectFault{Target: "child"})
	var err error
	select {
	case err = <-gaveUp:
	case <-started:
		t.Fatal("the child restarted a third time; want the supervisor to give up")
	case <-time.After(10 * time.Second):
		t.Fatal("the supervisor never gave up")
	}
	if got := restarts.ByActor()[pid.Id]; got != 2 {
		t.Errorf("restarts of %s = %d, want 2", pid.Id, got)
	}
	var pe *actors.Panic
	if errors.As(err, &pe) {
		t.Errorf("gave up with the panic itself, want a supervisor error: %v", err)
	}
	if want := "3 actor restarts within 1m0s, last " + pid.Id; !strings.Contains(err.Error(), want) {
		t.Errorf("gave up with %q, want it to say %q", err, want)
	}
}

// A spawn that fails gives up at once.
func TestSupervisorSpawnFailureGivesUp(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log }))
	defer system.Shutdown()
	got := make(chan error, 1)
	system.Root.Spawn(New(Policy{Logger: log, GiveUp: func(err error) { got <- err }}, nil,
		func(actor.Context) error { return errors.New("no sockets") }))
	select {
	case err := <-got:
		if !strings.Contains(err.Error(), "supervisor: no sockets") {
			t.Errorf("gave up with %q", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a failed spawn did not give up")
	}
}
