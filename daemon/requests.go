package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/pipeline"
)

// ErrUnwritten is returned by Run when a shutdown ended before the newest
// state of every port reached Redis.
var ErrUnwritten = errors.New("daemon: shutdown left port state unwritten")

// drain stops reading the kernel, then waits until everything read has gone
// through portstate and been written to Redis, or the timeout passes. It
// returns an error matching ErrUnwritten naming the ports whose newest
// state is not in Redis: refused by Redis, or still pending at the
// deadline.
func drain(root *actor.RootContext, pl pipeline.Pipeline, timeout time.Duration, log *slog.Logger) error {
	deadline := time.Now().Add(timeout)
	stopWithin(root, pl.Netlink, timeout)
	for _, pid := range []*actor.PID{pl.Ports, pl.Writer} {
		left := max(time.Until(deadline), time.Millisecond)
		res, err := root.RequestFuture(pid, &messages.Flush{}, left).Result()
		if err != nil {
			ports := "unknown (dbwriter did not answer)"
			if d, ok := ask(context.Background(), root, pl.Writer); ok {
				pending, _ := d.State["pending_ports"].([]string)
				held, _ := d.State["held"].([]string)
				ports = summary(append(pending, held...))
			}
			return fmt.Errorf("%w: %s did not finish within %s (Redis down or slow); newest state not written for %s",
				ErrUnwritten, pid.Id, timeout, ports)
		}
		if f, _ := res.(*messages.Flushed); f != nil && len(f.Unwritten) > 0 {
			return fmt.Errorf("%w: Redis refused the newest state of %d ports: %s", ErrUnwritten, len(f.Unwritten), summary(f.Unwritten))
		}
	}
	logging.Notice(log, "drained")
	return nil
}

// summary names the first few of ports, and how many more there are.
func summary(ports []string) string {
	s := strings.Join(firstFew(ports), ", ")
	if more := len(ports) - logPending; more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
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
