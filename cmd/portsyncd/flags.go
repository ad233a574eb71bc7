package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

// minBackoff is the least --redis-max-backoff: below it, retries against a
// Redis that is down would spin.
const minBackoff = 10 * time.Millisecond

// maxRcvBuf is the largest --netlink-rcvbuf: 1 GiB, 64 times the default
// (16 MiB, which already holds some 30,000 link messages). The kernel
// doubles the value and keeps it in an int, so far larger values wrap or
// are clamped without a word, and a buffer that big only hides a daemon
// that does not read.
const maxRcvBuf = 1 << 30

// flagValues are the flags whose values need checking beyond their type.
type flagValues struct {
	RcvBuf        int
	MaxRestarts   int
	RestartWindow time.Duration
	MaxBackoff    time.Duration
	DumpDir       string
	DumpDirSet    bool          // --dump-dir given, not the default
	MetricsAddr   string        // "" turns metrics off
	Recheck       time.Duration // --port-table-recheck
	Pprof         bool          // --pprof: needs a loopback MetricsAddr
	Args          []string      // positional arguments, of which there must be none
}

// validate reports the first flag whose value the daemon cannot run with,
// as one line naming the flag, the value and what is wanted.
func (f flagValues) validate() error {
	switch {
	case len(f.Args) > 0:
		return fmt.Errorf("unexpected argument %q: portsyncd takes flags only", f.Args[0])
	case f.RcvBuf < 0 || f.RcvBuf > maxRcvBuf:
		return fmt.Errorf("--netlink-rcvbuf %d: want 0 (kernel default) or a size in bytes up to %d (1 GiB)", f.RcvBuf, maxRcvBuf)
	case f.MaxRestarts < 0:
		return fmt.Errorf("--max-restarts %d: want 0 or more", f.MaxRestarts)
	case f.RestartWindow <= 0:
		return fmt.Errorf("--restart-window %v: want a duration above 0", f.RestartWindow)
	case f.MaxBackoff < minBackoff:
		return fmt.Errorf("--redis-max-backoff %v: want at least %v", f.MaxBackoff, minBackoff)
	case f.DumpDir == "":
		return fmt.Errorf("--dump-dir: want a directory")
	case dumpDirProblem(f.DumpDir, f.DumpDirSet) != "":
		return fmt.Errorf("--dump-dir %s: %s", f.DumpDir, dumpDirProblem(f.DumpDir, f.DumpDirSet))
	case f.Recheck <= 0:
		return fmt.Errorf("--port-table-recheck %v: want a duration above 0", f.Recheck)
	case f.MetricsAddr != "":
		if _, port, err := net.SplitHostPort(f.MetricsAddr); err != nil || port == "" {
			return fmt.Errorf("--metrics-addr %q: want host:port (e.g. 127.0.0.1:9123), or empty for none", f.MetricsAddr)
		} else if _, err := net.LookupPort("tcp", port); err != nil {
			return fmt.Errorf("--metrics-addr %q: port %q: want a number from 0 to 65535 (0: any free port) or a service name", f.MetricsAddr, port)
		} else if f.Pprof && !loopbackHost(f.MetricsAddr) {
			return fmt.Errorf("--pprof: --metrics-addr %q is not a loopback address: profiles are served on loopback only (e.g. 127.0.0.1:9123)", f.MetricsAddr)
		}
	case f.Pprof:
		return fmt.Errorf("--pprof: needs --metrics-addr, a loopback address to serve the profiles on (e.g. 127.0.0.1:9123)")
	}
	return nil
}

// loopbackHost reports whether the host of addr (host:port) is "localhost"
// or a loopback IP (127.0.0.0/8, ::1). An empty host means every address.
func loopbackHost(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// dumpDirProblem says what is wrong with dir as the state dump directory,
// or "". It must be a directory; one given on the command line must exist
// already (a typo would otherwise only show at the first SIGUSR1), while
// the default is made at the first dump, as SONiC's container has no
// /run/portsyncd.
func dumpDirProblem(dir string, set bool) string {
	fi, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err) && !set:
		return ""
	case os.IsNotExist(err):
		return "no such directory"
	case err != nil:
		return err.Error()
	case !fi.IsDir():
		return "not a directory"
	}
	return ""
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
