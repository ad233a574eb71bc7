// Command portsyncd mirrors the kernel's front-panel ports into SONiC's Redis
// databases: port configuration from CONFIG_DB into APPL_DB at start-up, then
// every link change into STATE_DB PORT_TABLE.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/lmittmann/tint"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/actors/dbwriter"
	"github.com/sonic-go/portsyncd/daemon"
	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// Exit statuses: 2 for a configuration the daemon cannot start with, 1 for a
// failure at run time (SONiC restarts the container or service around it).
const (
	exitFailure = 1
	exitConfig  = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("portsyncd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbConfig := fs.String("db-config", dbconfig.DefaultPath, "path of SONiC's `database_config.json`")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	rcvbuf := fs.Int("netlink-rcvbuf", 16<<20, "netlink receive buffer in `bytes` (SO_RCVBUFFORCE when permitted)")
	maxRestarts := fs.Int("max-restarts", 5, "actor restarts tolerated within --restart-window before exiting")
	restartWindow := fs.Duration("restart-window", time.Minute, "window for --max-restarts")
	maxBackoff := fs.Duration("redis-max-backoff", 2*time.Second, "cap on the wait between Redis retries")
	recheck := fs.Duration("port-table-recheck", dbwriter.DefaultRecheck, "without keyspace events from APPL_DB: how often to check again for ports not yet in PORT_TABLE")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile to this `file` until exit (for performance work)")
	mlock := fs.Bool("mlock", false, "lock all memory (mlockall) so the daemon never waits on a page fault; needs CAP_IPC_LOCK")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: portsyncd [flags]\n\nMirrors kernel link state into SONiC's Redis databases.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitConfig
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "portsyncd: --log-level %q: want debug, info, warn or error\n", *logLevel)
		return exitConfig
	}
	log := slog.New(logHandler(stderr, level))
	libLog := slog.New(logHandler(stderr, max(level, slog.LevelWarn))).With("lib", "protoactor")

	if *mlock {
		if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE); err != nil {
			fmt.Fprintf(stderr, "portsyncd: --mlock: %v\n", err)
			return exitConfig
		}
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "portsyncd: --cpu-profile: %v\n", err)
			return exitConfig
		}
		defer pprof.StopCPUProfile()
	}

	cfg, err := dbconfig.Load(*dbConfig)
	if err == nil {
		err = cfg.Require("APPL_DB", "CONFIG_DB", "STATE_DB")
		if err != nil {
			err = fmt.Errorf("%s: %w", *dbConfig, err)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd: %v\n", err)
		return exitConfig
	}
	dbs, err := sonicdb.Open(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd: %s: %v\n", *dbConfig, err)
		return exitConfig
	}
	defer dbs.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	req := requests()
	req.Faults = faults()
	err = daemon.Run(ctx, dbs, daemon.Options{
		RcvBuf:           *rcvbuf,
		MaxRestarts:      *maxRestarts,
		RestartWindow:    *restartWindow,
		MaxBackoff:       *maxBackoff,
		PortTableRecheck: *recheck,
		Credits:          256,
		Watchdog:         2 * time.Second,
		DrainTimeout:     1500 * time.Millisecond,
		Logger:           log,
		LibLogger:        libLog,
	}, req, nil)
	if err != nil {
		log.Error("portsyncd stopped", "err", err)
		return exitFailure
	}
	return 0
}

// logHandler writes colour for a person at a terminal and logfmt otherwise
// (journald, files, tests).
func logHandler(w io.Writer, level slog.Level) slog.Handler {
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		return tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly})
	}
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil && !strings.EqualFold(os.Getenv("TERM"), "dumb")
}
