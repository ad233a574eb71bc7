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

// Watchdog runs a Pinger for healthy until ctx ends (see Pinger.Run). It
// returns nil at once when the watchdog is not enabled for this process, and
// an error at once when WATCHDOG_USEC or WATCHDOG_PID is malformed. A daemon
// that sends READY=1 should use a Pinger instead, so that a ping comes with
// READY=1.
func Watchdog(ctx context.Context, healthy func() bool) error {
	interval, err := WatchdogInterval()
	if err != nil {
		return err
	}
	return NewPinger(interval, healthy).Run(ctx)
}

// WatchdogInterval returns systemd's watchdog timeout for this process
// (WATCHDOG_USEC, the unit's WatchdogSec=), or 0 when there is none: no
// WATCHDOG_USEC, a WATCHDOG_PID naming another process, or no NOTIFY_SOCKET
// to ping. The error is for a malformed WATCHDOG_USEC or WATCHDOG_PID.
func WatchdogInterval() (time.Duration, error) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("sdnotify: watchdog: %w", err)
	}
	if interval < 0 || os.Getenv("NOTIFY_SOCKET") == "" {
		return 0, nil
	}
	return interval, nil
}

// HeartbeatPeriod returns how often the daemon should check its own health
// (and call Heartbeat.Beat when it is good) so that every ping of a watchdog
// with this interval finds a fresh answer: a quarter of interval, at most
// max; max when interval is 0 (no watchdog). Pair it with
// Heartbeat.Within(2*period): one late round is forgiven, two are not, and
// a wedged daemon's pings stop within half an interval, so systemd kills it
// within one and a half.
func HeartbeatPeriod(interval, max time.Duration) time.Duration {
	if interval <= 0 {
		return max
	}
	return min(max, interval/4)
}

// Pinger sends systemd's watchdog pings (WATCHDOG=1) for this process while
// the daemon is healthy, and one with READY=1.
//
// systemd arms a Type=notify unit's watchdog when READY=1 arrives, and kills
// the process (SIGABRT) when a whole WATCHDOG_USEC passes without a ping.
// So Ready sends READY=1 and WATCHDOG=1 in one datagram and restarts the
// period; Run pings every interval/2 while healthy returns true. With
// WatchdogSec=500ms that is a ping every 250 ms, so healthy must be fed at
// least that often: see HeartbeatPeriod.
type Pinger struct {
	interval time.Duration // 0: the watchdog is off
	healthy  func() bool
	kick     chan struct{} // Ready pinged: restart Run's period
}

// NewPinger returns a Pinger for a watchdog of the given interval (from
// WatchdogInterval; 0 for none). healthy says whether the daemon is healthy
// right now; it is called once per ping from Run's goroutine (and by Ready
// on the caller's) and must not block for long. With interval 0, Run
// returns at once and Ready sends READY=1 alone.
func NewPinger(interval time.Duration, healthy func() bool) *Pinger {
	return &Pinger{interval: max(interval, 0), healthy: healthy, kick: make(chan struct{}, 1)}
}

// Ready tells systemd that start-up is complete. With the watchdog on and
// healthy returning true it sends "READY=1\nWATCHDOG=1" as one datagram
// (systemd arms the watchdog at READY=1, so its first period starts with a
// ping) and restarts Run's period, so the next ping follows interval/2
// later. Call Heartbeat.Beat just before it: the initial sync that precedes
// READY is itself proof that the daemon works. It returns nil, sending
// nothing, when NOTIFY_SOCKET is not set.
func (p *Pinger) Ready() error {
	if p.interval <= 0 || !p.healthy() {
		return Ready() // Run pings as soon as healthy says so
	}
	if err := notify(daemon.SdNotifyReady + "\n" + daemon.SdNotifyWatchdog); err != nil {
		return err
	}
	select {
	case p.kick <- struct{}{}:
	default: // a restart is already pending
	}
	return nil
}

// Run sends WATCHDOG=1 every interval/2, but only when healthy returns true
// at that moment: a tick where it returns false sends nothing, so that
// systemd, after a whole interval without a ping, kills the process and
// Restart=on-failure starts a new one. Pings resume as soon as healthy
// returns true again. The first tick is at once.
//
// Run blocks until ctx ends and then returns nil. It returns nil at once
// when the watchdog is off (no WATCHDOG_USEC, WATCHDOG_PID naming another
// process, or no NOTIFY_SOCKET), and an error when a ping cannot be sent
// (the notify socket is gone; systemd will not hear from this process
// again).
func (p *Pinger) Run(ctx context.Context) error {
	if p.interval <= 0 {
		return nil
	}
	every := max(p.interval/2, time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if p.healthy() {
			sent, err := daemon.SdNotify(false, daemon.SdNotifyWatchdog)
			if err != nil {
				return fmt.Errorf("sdnotify: send WATCHDOG: %w", err)
			}
			if !sent {
				return nil // NOTIFY_SOCKET gone from the environment: nobody to ping
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.kick:
			// Ready just pinged: the next ping is a half period away.
			t.Reset(every)
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
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
