package main

import (
	"context"
	"encoding/json"
	"errors"
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

// Exit statuses of "portsyncd status" besides 0 and exitConfig: a port
// differs from the kernel, or Redis or the kernel could not be read.
const (
	exitStatusDiffers = 1
	exitStatusUnread  = 3
)

// runStatus is "portsyncd status": it prints every port's state from the
// databases, compared with the kernel's links (see package status).
func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("portsyncd status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbConfig := fs.String("db-config", dbconfig.DefaultPath, "path of SONiC's `database_config.json`")
	asJSON := fs.Bool("json", false, "print JSON (schema in the package documentation of status) instead of a table")
	watch := fs.Bool("watch", false, "redraw whenever the view changes, until interrupted (with --json: one object per line)")
	interval := fs.Duration("interval", time.Second, "how often --watch reads the state")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: portsyncd status [flags]\n\n"+
			"Shows every port in CONFIG_DB, APPL_DB and STATE_DB; run in the ports' network\n"+
			"namespace, flags each port whose STATE_DB state differs from the kernel.\n"+
			"Exit status: 0 in agreement, 1 a port differs, 2 bad flags or configuration,\n"+
			"3 Redis or the kernel could not be read.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitConfig
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "portsyncd status: unexpected argument %q: status takes flags only (see portsyncd status -h)\n", fs.Arg(0))
		return exitConfig
	case *interval <= 0:
		fmt.Fprintf(stderr, "portsyncd status: --interval %v: want a duration above 0, e.g. 1s\n", *interval)
		return exitConfig
	}
	// go-redis logs its failed dials itself (pool.go lines on stderr);
	// status reports every failure in its own words, once.
	redis.SetLogger(quietRedis{})
	cfg, err := dbconfig.Load(*dbConfig)
	if err == nil {
		if err = cfg.Require("APPL_DB", "CONFIG_DB", "STATE_DB"); err != nil {
			err = fmt.Errorf("%s: %w", *dbConfig, err)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd status: %v\n", err)
		return exitConfig
	}
	dbs, err := sonicdb.Open(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd status: %s: %v\n", *dbConfig, err)
		return exitConfig
	}
	defer dbs.Close()

	render := status.Table
	if *asJSON {
		render = status.JSON
	}
	if !*watch {
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
		case *asJSON:
			b, _ := json.Marshal(map[string]string{"error": err.Error()})
			return string(b) + "\n"
		default:
			return fmt.Sprintf("portsyncd status: %v\n", err)
		}
	}
	draw := func(s string) { fmt.Fprint(stdout, s) }
	if f, ok := stdout.(*os.File); ok && !*asJSON && logging.IsTerminal(f) {
		draw = func(s string) { fmt.Fprint(stdout, "\x1b[H\x1b[2J"+s) } // home, clear screen
	} else if !*asJSON {
		draw = func(s string) { fmt.Fprint(stdout, s+"\n") } // a blank line between views
	}
	status.Watch(ctx, *interval, frame, draw)
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
