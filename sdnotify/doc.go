// Package sdnotify tells systemd how portsyncd is doing, over the
// sd_notify(3) protocol: READY=1 once start-up is complete, STOPPING=1 when
// shutdown begins, a free-form STATUS= line, and WATCHDOG=1 pings while the
// daemon is healthy (the unit's WatchdogSec=).
//
// It owns the notify socket protocol and the watchdog's timing. It never
// decides whether the daemon is healthy: the caller says so through the
// healthy function given to Watchdog (see Heartbeat), so that a wedged actor
// stops the pings and systemd kills and restarts the process.
//
// Without NOTIFY_SOCKET in the environment (started by hand, by supervisord,
// by a test) every function sends nothing and returns nil; without
// WATCHDOG_USEC, or with a WATCHDOG_PID of another process, Watchdog returns
// at once. The environment is left as it is, so calling Ready twice is
// harmless.
//
// How the daemon wires it:
//
//	hb := &sdnotify.Heartbeat{}
//	// the supervisor's watchdog calls hb.Beat() each time every actor answered
//	go func() {
//		if err := sdnotify.Watchdog(ctx, hb.Within(3*every)); err != nil {
//			log.Warn("systemd watchdog stopped", "err", err)
//		}
//	}()
//	// after the initial sync:
//	_ = sdnotify.Ready()
//	// when ctx ends:
//	_ = sdnotify.Stopping()
package sdnotify
