package sdnotify

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Ready tells systemd that start-up is complete (READY=1): for a unit of
// Type=notify, systemctl start returns and units ordered after it start. It
// returns nil, sending nothing, when NOTIFY_SOCKET is not set.
func Ready() error { return notify(daemon.SdNotifyReady) }

// Stopping tells systemd that shutdown has begun (STOPPING=1), so that it
// does not take the exit that follows for a crash. It returns nil, sending
// nothing, when NOTIFY_SOCKET is not set.
func Stopping() error { return notify(daemon.SdNotifyStopping) }

// Status sets the one-line status that systemctl status shows (STATUS=).
// Newlines in s are replaced with spaces, since a newline would end the
// field. It returns nil, sending nothing, when NOTIFY_SOCKET is not set.
func Status(s string) error {
	return notify("STATUS=" + strings.ReplaceAll(s, "\n", " "))
}

func notify(state string) error {
	if _, err := daemon.SdNotify(false, state); err != nil {
		return fmt.Errorf("sdnotify: send %s: %w", strings.SplitN(state, "=", 2)[0], err)
	}
	return nil
}

// Watchdog sends WATCHDOG=1 every half of the watchdog interval that systemd
// passes in WATCHDOG_USEC (the unit's WatchdogSec=), but only when healthy
// returns true at that moment: a tick where healthy returns false sends
// nothing, so that systemd, after a whole interval without a ping, kills the
// process (SIGABRT) and Restart=on-failure starts a new one. Pings resume as
// soon as healthy returns true again.
//
// healthy is called once per tick from Watchdog's goroutine; it must not
// block for long. Watchdog blocks until ctx ends and then returns nil. It
// returns nil at once when the watchdog is not enabled for this process (no
// WATCHDOG_USEC, WATCHDOG_PID naming another process, or no NOTIFY_SOCKET),
// an error at once when WATCHDOG_USEC or WATCHDOG_PID is malformed, and an
// error when a ping cannot be sent (the notify socket is gone; systemd will
// not hear from this process again).
func Watchdog(ctx context.Context, healthy func() bool) error {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return fmt.Errorf("sdnotify: watchdog: %w", err)
	}
	if interval <= 0 || os.Getenv("NOTIFY_SOCKET") == "" {
		return nil
	}
	every := max(interval/2, time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if healthy() {
			sent, err := daemon.SdNotify(false, daemon.SdNotifyWatchdog)
			if err != nil {
				return fmt.Errorf("sdnotify: send WATCHDOG: %w", err)
			}
			if !sent {
				return nil // no NOTIFY_SOCKET: nobody to ping
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// epoch anchors Heartbeat's times to the monotonic clock.
var epoch = time.Now()

// Heartbeat records when the daemon last proved itself alive, for a healthy
// function that Watchdog can poll. The zero value has never beaten. It is
// safe for concurrent use.
type Heartbeat struct {
	last atomic.Int64 // time.Since(epoch) at the last Beat, plus one; 0 = never
}

// Beat records that the daemon is alive now; the supervisor calls it each
// time every actor has answered.
func (h *Heartbeat) Beat() { h.last.Store(int64(time.Since(epoch)) + 1) }

// Within returns a healthy function for Watchdog that reports whether Beat
// was called within the last maxAge. Choose maxAge larger than the period of
// the Beat calls, so that one slow round does not stop the pings.
func (h *Heartbeat) Within(maxAge time.Duration) func() bool {
	return func() bool {
		last := h.last.Load()
		return last != 0 && time.Since(epoch)-time.Duration(last-1) <= maxAge
	}
}
