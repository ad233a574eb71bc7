package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/messages"
)

// watchdog asks every actor for a heartbeat each period and gives up when one
// misses two in a row: a wedged actor would leave STATE_DB wrong for good.
// The actors are asked at once, and each question waits at most a period;
// it only posts, so a wedged actor cannot wedge the watchdog. answered is
// told of every answer, allAnswered of every round in which every actor
// answered (the systemd watchdog's and /healthz's evidence).
func watchdog(ctx context.Context, root *actor.RootContext, children map[string]*actor.PID, every time.Duration,
	giveUp func(error), answered func(string), allAnswered func()) {
	missed := make(map[string]int)
	t := time.NewTicker(every)
	defer t.Stop()
	futures := make(map[string]*actor.Future, len(children))
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for name, pid := range children {
			futures[name] = root.RequestFuture(pid, &messages.Heartbeat{}, every)
		}
		all := true
		for name, f := range futures {
			if _, err := f.Result(); err != nil {
				if ctx.Err() != nil {
					return
				}
				all = false
				missed[name]++
				if missed[name] >= 2 {
					giveUp(fmt.Errorf("daemon: actor %s did not answer for %s: %w", name, 2*every, err))
					return
				}
				continue
			}
			missed[name] = 0
			answered(name)
		}
		if all {
			allAnswered()
		}
	}
}
