package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/logging"
)

// signals routes the daemon's signals (README, "Signals").
type signals struct {
	// ctx ends at the first SIGTERM or SIGINT: drain and exit 0.
	ctx context.Context
	// resync receives a value for each SIGHUP while the pipeline runs.
	resync chan struct{}
	// dump receives a value for each SIGUSR1 (state dump).
	dump chan struct{}
	stop func()
}

// handleSignals starts routing signals and ignores SIGPIPE. It is called
// before anything with a side effect, so that SIGHUP, whose default action
// ends the process, never does.
func handleSignals(log *slog.Logger) *signals {
	// A write to a closed stderr (its reader, a pipe to a logger, went
	// away) raises SIGPIPE, whose default action ends a Go program writing
	// to fd 1 or 2. Ignored, the write fails with EPIPE and the daemon goes
	// on: port state matters more than its log.
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(context.Background())
	s := &signals{ctx: ctx, resync: make(chan struct{}), dump: make(chan struct{}, 1)}
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() {
		for {
			var sig os.Signal
			select {
			case sig = <-ch:
			case <-done:
				return
			}
			name := unix.SignalName(sig.(syscall.Signal))
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT:
				if ctx.Err() != nil {
					logging.Notice(log, "signal ignored: already stopping", "signal", name)
					continue
				}
				logging.Notice(log, "stopping", "signal", name)
				cancel()
			case syscall.SIGHUP:
				// resync is unbuffered: only a running supervisor loop takes
				// it. Before the pipeline runs there is nothing to resync
				// (start-up dumps anyway), and while it drains nothing must
				// start.
				select {
				case s.resync <- struct{}{}:
					logging.Notice(log, "resync requested", "signal", name)
				default:
					logging.Notice(log, "signal ignored: pipeline not running", "signal", name)
				}
			case syscall.SIGUSR1:
				select {
				case s.dump <- struct{}{}:
				default:
				}
			}
		}
	}()
	// Signals stay caught to the end: a late SIGHUP must not turn a clean
	// exit into death by signal.
	s.stop = func() {
		close(done)
		cancel()
	}
	return s
}
