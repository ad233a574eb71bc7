package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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
	ns            *nsFlags
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
	sf.ns = addNamespaceFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: portsyncd status [flags]\n\n"+
			"Shows every port in CONFIG_DB, APPL_DB and STATE_DB; run in the ports' network\n"+
			"namespace (or with -n, from anywhere), flags each port whose STATE_DB state\n"+
			"differs from the kernel. With -n NAME (repeatable, or all): each namespace's\n"+
			"databases and links, one view per namespace (with --json, one object each,\n"+
			"with a \"namespace\" field).\n"+
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
	case len(sf.ns.names) > 0 && isSet(fs, "db-config"):
		fmt.Fprintf(stderr, "portsyncd status: --db-config and --namespace: a namespace's databases come from --db-global-config\n")
		return ExitUsage
	}
	// go-redis logs its failed dials itself (pool.go lines on stderr);
	// status reports every failure in its own words, once.
	redis.SetLogger(quietRedis{})
	targets, err := openTargets(sf.dbConfig, sf.ns)
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd status: %v\n", err)
		return ExitConfig
	}
	defer func() {
		for _, tg := range targets {
			tg.close()
		}
	}()

	render := status.Table
	if sf.asJSON {
		render = status.JSON
	}
	view := func(ctx context.Context) (string, int, error) {
		var out strings.Builder
		code := 0
		for i, tg := range targets {
			r, err := readReport(ctx, tg.dbs, tg.netns)
			if err != nil {
				if tg.name != "" {
					err = fmt.Errorf("namespace %q: %w", tg.name, err)
				}
				return "", exitStatusUnread, err
			}
			if r.Differs() {
				code = exitStatusDiffers
			}
			switch {
			case tg.name == "":
				out.WriteString(render(r))
			case sf.asJSON:
				b, err := json.Marshal(nsReport{Namespace: tg.name, Report: r})
				if err != nil {
					return "", exitStatusUnread, err
				}
				out.Write(append(b, '\n'))
			default:
				if i > 0 {
					out.WriteString("\n")
				}
				fmt.Fprintf(&out, "namespace %s\n%s", tg.name, render(r))
			}
		}
		return out.String(), code, nil
	}
	if !sf.watch {
		s, code, err := view(context.Background())
		if err != nil {
			fmt.Fprintf(stderr, "portsyncd status: %v\n", err)
			return exitStatusUnread
		}
		fmt.Fprint(stdout, s)
		return code
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	frame := func(ctx context.Context) string {
		s, _, err := view(ctx)
		switch {
		case err == nil:
			return s
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

// nsReport is one namespace's report in --json output with -n.
type nsReport struct {
	Namespace string `json:"namespace"`
	status.Report
}

// readReport reads the databases and the kernel's links, within 5 s.
func readReport(ctx context.Context, dbs *sonicdb.DBs, netns int) (status.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	snap, err := status.ReadDBs(ctx, dbs)
	if err != nil {
		return status.Report{}, err
	}
	if snap.Kernel, err = status.ReadKernelIn(netns); err != nil {
		return status.Report{}, err
	}
	return status.Build(snap), nil
}

// quietRedis drops go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
