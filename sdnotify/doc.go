// Package sdnotify tells systemd how portsyncd is doing, over the
// sd_notify(3) protocol: READY=1 once start-up is complete, STOPPING=1 when
// shutdown begins, a free-form STATUS= line, and WATCHDOG=1 pings while the
// daemon is healthy (the unit's WatchdogSec=).
//
// It owns the notify socket protocol and the watchdog's timing. It never
// decides whether the daemon is healthy: the caller says so through the
// healthy function given to NewPinger (see Heartbeat), so that a wedged
// actor stops the pings and systemd kills and restarts the process.
//
// Without NOTIFY_SOCKET in the environment (started by hand, by supervisord,
// by a test) every function sends nothing and returns nil; without
// WATCHDOG_USEC, or with a WATCHDOG_PID of another process, WatchdogInterval
// is 0 and a Pinger's Run returns at once. The environment is left as it
// is, so calling Ready twice is harmless.
//
// systemd arms the watchdog when READY=1 arrives and kills the process after
// a whole WATCHDOG_USEC without a ping. So the first ping goes in the same
// datagram as READY=1 (Pinger.Ready), the next ones every WATCHDOG_USEC/2
// (Pinger.Run), and the daemon's own health check runs every quarter of it
// (HeartbeatPeriod), which works for any WatchdogSec= down to 500 ms.
//
// How the daemon wires it:
//
//	interval, err := sdnotify.WatchdogInterval() // 0: no watchdog
//	if err != nil {
//		log.Warn("systemd watchdog not served", "err", err)
//	}
//	every := sdnotify.HeartbeatPeriod(interval, 2*time.Second) // the actors' heartbeat period
//	hb := &sdnotify.Heartbeat{}
//	pinger := sdnotify.NewPinger(interval, hb.Within(2*every))
//	// the supervisor's watchdog asks every actor each `every` and calls
//	// hb.Beat() when all answered
//	go func() {
//		if err := pinger.Run(ctx); err != nil {
//			log.Warn("systemd watchdog stopped", "err", err)
//		}
//	}()
//	_ = sdnotify.Status("waiting for Redis at /var/run/redis/redis.sock")
//	_ = sdnotify.Status("syncing: 3 ports pending")
//	// after the initial sync (itself proof that the actors answer):
//	hb.Beat()
//	_ = pinger.Ready() // READY=1 and WATCHDOG=1 in one datagram
//	_ = sdnotify.Status("ready: 32 ports, PortInitDone sent")
//	// when ctx ends:
//	_ = sdnotify.Stopping()
//	_ = sdnotify.Status("draining")
package sdnotify
