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
// answered is told of every answer, allAnswered of every round in which
// every actor answered (the systemd watchdog's and /healthz's evidence).
func watchdog(ctx context.Context, root *actor.RootContext, children map[string]*actor.PID, every time.Duration,
	giveUp func(error), answered func(string), allAnswered func()) {
	missed := make(map[string]int)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		all := true
		for name, pid := range children {
			if _, err := root.RequestFuture(pid, &messages.Heartbeat{}, every).Result(); err != nil {
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
