package main

import (
	"fmt"
	"net"
	"time"
)

// minBackoff is the least --redis-max-backoff: below it, retries against a
// Redis that is down would spin.
const minBackoff = 10 * time.Millisecond

// flagValues are the flags whose values need checking beyond their type.
type flagValues struct {
	RcvBuf        int
	MaxRestarts   int
	RestartWindow time.Duration
	MaxBackoff    time.Duration
	LockDir       string
	DumpDir       string
	MetricsAddr   string        // "" turns metrics off
	Recheck       time.Duration // --port-table-recheck
	Args          []string      // positional arguments, of which there must be none
}

// validate reports the first flag whose value the daemon cannot run with,
// as one line naming the flag, the value and what is wanted.
func (f flagValues) validate() error {
	switch {
	case len(f.Args) > 0:
		return fmt.Errorf("unexpected argument %q: portsyncd takes flags only", f.Args[0])
	case f.RcvBuf < 0:
		return fmt.Errorf("--netlink-rcvbuf %d: want 0 (kernel default) or a size in bytes", f.RcvBuf)
	case f.MaxRestarts < 0:
		return fmt.Errorf("--max-restarts %d: want 0 or more", f.MaxRestarts)
	case f.RestartWindow <= 0:
		return fmt.Errorf("--restart-window %v: want a duration above 0", f.RestartWindow)
	case f.MaxBackoff < minBackoff:
		return fmt.Errorf("--redis-max-backoff %v: want at least %v", f.MaxBackoff, minBackoff)
	case f.LockDir == "":
		return fmt.Errorf("--lock-dir: want a directory")
	case f.DumpDir == "":
		return fmt.Errorf("--dump-dir: want a directory")
	case f.Recheck <= 0:
		return fmt.Errorf("--port-table-recheck %v: want a duration above 0", f.Recheck)
	case f.MetricsAddr != "":
		if _, port, err := net.SplitHostPort(f.MetricsAddr); err != nil || port == "" {
			return fmt.Errorf("--metrics-addr %q: want host:port (e.g. 127.0.0.1:9123), or empty for none", f.MetricsAddr)
		}
	}
	return nil
}
