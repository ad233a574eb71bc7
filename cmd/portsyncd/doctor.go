package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/doctor"
	"github.com/sonic-go/portsyncd/metrics"
)

// exitDoctorFailed is "portsyncd doctor"'s status when a check FAILs.
const exitDoctorFailed = 1

// doctorFlags are the flags of "portsyncd doctor".
type doctorFlags struct {
	opts       doctor.Options
	namespaces stringList
	asJSON     bool
}

// stringList is a flag that may be given more than once.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error {
	if s == "" || strings.ContainsAny(s, "/\x00") || s == "." || s == ".." {
		return fmt.Errorf("want a namespace name as in /run/netns, not %q", s)
	}
	*l = append(*l, s)
	return nil
}

// newDoctorFlagSet defines the flags of "portsyncd doctor": the daemon's
// flags its checks depend on, with the daemon's defaults.
func newDoctorFlagSet() (*flag.FlagSet, *doctorFlags) {
	fs := flag.NewFlagSet("portsyncd doctor", flag.ContinueOnError)
	df := &doctorFlags{}
	fs.StringVar(&df.opts.DBConfig, "db-config", dbconfig.DefaultPath, "path of SONiC's `database_config.json`")
	fs.IntVar(&df.opts.RcvBuf, "netlink-rcvbuf", 16<<20, "the daemon's netlink receive buffer in `bytes`, checked against net.core.rmem_max")
	fs.BoolVar(&df.opts.Mlock, "mlock", false, "the daemon runs with --mlock: check the memlock limit")
	fs.StringVar(&df.opts.MetricsAddr, "metrics-addr", metrics.DefaultAddr, "ask a running daemon's /readyz at this `address` (empty: do not)")
	fs.Var(&df.namespaces, "namespace", "a network `namespace` the daemon is to run in: /run/netns/NAME must exist (repeatable)")
	fs.DurationVar(&df.opts.Timeout, "timeout", 2*time.Second, "bound on each Redis command and the /readyz request")
	fs.BoolVar(&df.asJSON, "json", false, "print JSON (package doctor's Report) instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: portsyncd doctor [flags]\n\n"+
			"Checks this host for portsyncd, one row per check: OK, WARN or FAIL, the value\n"+
			"found, the value wanted and the fix. Run it as the daemon runs (root, in the\n"+
			"ports' network namespace, with the daemon's flags). It changes nothing.\n"+
			"Exit status: 0 no check failed, 1 a check failed, 64 bad flags.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, df
}

// runDoctor is "portsyncd doctor".
func runDoctor(args []string, stdout, stderr io.Writer) int {
	fs, df := newDoctorFlagSet()
	if code, done := parseFlags(fs, "portsyncd doctor", args, stdout, stderr); done {
		return code
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "portsyncd doctor: unexpected argument %q: doctor takes flags only (see portsyncd doctor -h)\n", fs.Arg(0))
		return ExitUsage
	case df.opts.RcvBuf < 0 || df.opts.RcvBuf > maxRcvBuf:
		fmt.Fprintf(stderr, "portsyncd doctor: --netlink-rcvbuf %d: want 0 (kernel default) or a size in bytes up to %d (1 GiB)\n", df.opts.RcvBuf, maxRcvBuf)
		return ExitUsage
	case df.opts.Timeout <= 0:
		fmt.Fprintf(stderr, "portsyncd doctor: --timeout %v: want a duration above 0, e.g. 2s\n", df.opts.Timeout)
		return ExitUsage
	}
	df.opts.Namespaces = df.namespaces
	redis.SetLogger(quietRedis{}) // failures are rows of the report
	r := doctor.Probe(context.Background(), df.opts)
	if df.asJSON {
		fmt.Fprint(stdout, doctor.JSON(r))
	} else {
		fmt.Fprint(stdout, doctor.Table(r))
	}
	if r.Failed() {
		return exitDoctorFailed
	}
	return ExitOK
}
