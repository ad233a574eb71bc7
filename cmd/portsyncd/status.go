package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/sonicdb"
	"github.com/sonic-go/portsyncd/status"
)

// Exit statuses of "portsyncd status" besides 0, ExitUsage and ExitConfig: a port
// differs from the kernel, or Redis or the kernel could not be read.
const (
	exitStatusDiffers = 1
	exitStatusUnread  = 3
)

// statusFlags are the flags of "portsyncd status".
type statusFlags struct {
	dbConfig      string
	asJSON, watch bool
	interval      time.Duration
}

// newStatusFlagSet defines the flags of "portsyncd status" (parsed by
// runStatus, written into the man page).
func newStatusFlagSet() (*flag.FlagSet, *statusFlags) {
	fs := flag.NewFlagSet("portsyncd status", flag.ContinueOnError)
	sf := &statusFlags{}
	fs.StringVar(&sf.dbConfig, "db-config", dbconfig.DefaultPath, "path of SONiC's `database_config.json`")
	fs.BoolVar(&sf.asJSON, "json", false, "print JSON (schema in the package documentation of status) instead of a table")
	fs.BoolVar(&sf.watch, "watch", false, "redraw whenever the view changes, until interrupted (with --json: one object per line)")
	fs.DurationVar(&sf.interval, "interval", time.Second, "how often --watch reads the state")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: portsyncd status [flags]\n\n"+
			"Shows every port in CONFIG_DB, APPL_DB and STATE_DB; run in the ports' network\n"+
			"namespace, flags each port whose STATE_DB state differs from the kernel.\n"+
			"Exit status: 0 in agreement, 1 a port differs, 3 Redis or the kernel could not\n"+
			"be read, 64 bad flags, 78 bad configuration.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, sf
}

// runStatus is "portsyncd status": it prints every port's state from the
// databases, compared with the kernel's links (see package status).
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs, sf := newStatusFlagSet()
	if code, done := parseFlags(fs, "portsyncd status", args, stdout, stderr); done {
		return code
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "portsyncd status: unexpected argument %q: status takes flags only (see portsyncd status -h)\n", fs.Arg(0))
		return ExitUsage
	case sf.interval <= 0:
		fmt.Fprintf(stderr, "portsyncd status: --interval %v: want a duration above 0, e.g. 1s\n", sf.interval)
		return ExitUsage
	}
	// go-redis logs its failed dials itself (pool.go lines on stderr);
	// status reports every failure in its own words, once.
	redis.SetLogger(quietRedis{})
	cfg, err := dbconfig.Load(sf.dbConfig)
	if err == nil {
		if err = cfg.Require("APPL_DB", "CONFIG_DB", "STATE_DB"); err != nil {
			err = fmt.Errorf("%s: %w", sf.dbConfig, err)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd status: %v\n", err)
		return ExitConfig
	}
	dbs, err := sonicdb.Open(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd status: %s: %v\n", sf.dbConfig, err)
		return ExitConfig
	}
	defer dbs.Close()

	render := status.Table
	if sf.asJSON {
		render = status.JSON
	}
	if !sf.watch {
		r, err := readReport(context.Background(), dbs)
		if err != nil {
			fmt.Fprintf(stderr, "portsyncd status: %v\n", err)
			return exitStatusUnread
		}
		fmt.Fprint(stdout, render(r))
		if r.Differs() {
			return exitStatusDiffers
		}
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	frame := func(ctx context.Context) string {
		r, err := readReport(ctx, dbs)
		switch {
		case err == nil:
			return render(r)
		case sf.asJSON:
			b, _ := json.Marshal(map[string]string{"error": err.Error()})
			return string(b) + "\n"
		default:
			return fmt.Sprintf("portsyncd status: %v\n", err)
		}
	}
	draw := func(s string) { fmt.Fprint(stdout, s) }
	if f, ok := stdout.(*os.File); ok && !sf.asJSON && logging.IsTerminal(f) {
		draw = func(s string) { fmt.Fprint(stdout, "\x1b[H\x1b[2J"+s) } // home, clear screen
	} else if !sf.asJSON {
		draw = func(s string) { fmt.Fprint(stdout, s+"\n") } // a blank line between views
	}
	status.Watch(ctx, sf.interval, frame, draw)
	return 0
}

// readReport reads the databases and the kernel's links, within 5 s.
func readReport(ctx context.Context, dbs *sonicdb.DBs) (status.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	snap, err := status.ReadDBs(ctx, dbs)
	if err != nil {
		return status.Report{}, err
	}
	if snap.Kernel, err = status.ReadKernel(); err != nil {
		return status.Report{}, err
	}
	return status.Build(snap), nil
}

// quietRedis drops go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
