package daemon

import (
	"log/slog"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/pipeline"
)

// drain stops reading the kernel, then waits until everything read has gone
// through portstate and been acknowledged by Redis, or the timeout passes.
func drain(root *actor.RootContext, pl pipeline.Pipeline, timeout time.Duration, log *slog.Logger) {
	deadline := time.Now().Add(timeout)
	stopWithin(root, pl.Netlink, timeout)
	for _, pid := range []*actor.PID{pl.Ports, pl.Writer} {
		left := max(time.Until(deadline), time.Millisecond)
		if _, err := root.RequestFuture(pid, &messages.Flush{}, left).Result(); err != nil {
			log.Warn("shutdown before all state was written", "actor", pid.Id, "err", err)
			return
		}
	}
	logging.Notice(log, "drained")
}

// injectFault delivers an injected fault (faultinject builds) to its target.
func injectFault(root *actor.RootContext, children map[string]*actor.PID, f messages.InjectFault, log *slog.Logger) {
	target, _, _ := strings.Cut(f.Target, ":")
	pid, ok := children[target]
	if !ok {
		log.Warn("fault target unknown", "target", f.Target)
		return
	}
	log.Warn("injecting fault", "target", f.Target, "wedge", f.Wedge)
	root.Send(pid, &f)
}
