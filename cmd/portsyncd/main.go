// Command portsyncd mirrors the kernel's front-panel ports into SONiC's Redis
// databases: port configuration from CONFIG_DB into APPL_DB at start-up, then
// every link change into STATE_DB PORT_TABLE.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/actors/dbwriter"
	"github.com/sonic-go/portsyncd/daemon"
	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/metrics"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// Exit statuses: 2 for a configuration the daemon cannot start with, 1 for a
// failure at run time (SONiC restarts the container or service around it).
const (
	exitFailure = 1
	exitConfig  = 2
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "status" {
		os.Exit(runStatus(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("portsyncd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbConfig := fs.String("db-config", dbconfig.DefaultPath, "path of SONiC's `database_config.json`")
	logFlags := addLogFlags(fs)
	rcvbuf := fs.Int("netlink-rcvbuf", 16<<20, "netlink receive buffer in `bytes` (SO_RCVBUFFORCE when permitted)")
	maxRestarts := fs.Int("max-restarts", 5, "actor restarts tolerated within --restart-window before exiting")
	restartWindow := fs.Duration("restart-window", time.Minute, "window for --max-restarts")
	maxBackoff := fs.Duration("redis-max-backoff", 2*time.Second, "cap on the wait between Redis retries")
	recheck := fs.Duration("port-table-recheck", dbwriter.DefaultRecheck, "without keyspace events from APPL_DB: how often to check again for ports not yet in PORT_TABLE")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile to this `file` until exit (for performance work)")
	dumpDir := fs.String("dump-dir", "/run/portsyncd", "`directory` for the state dumps SIGUSR1 asks for (the newest 10 are kept)")
	metricsAddr := fs.String("metrics-addr", metrics.DefaultAddr, "serve /metrics, /healthz, /readyz and /debug/actors on this `address` (empty: not served)")
	mlock := fs.Bool("mlock", false, "lock all memory (mlockall) so the daemon never waits on a page fault; needs CAP_IPC_LOCK")
	lockDir := fs.String("lock-dir", "", "deprecated, ignored: one portsyncd per network namespace and database set is kept without a file")
	showVersion := fs.Bool("version", false, "print the version and exit")
	rt := addRuntimeFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: portsyncd [flags]\n       portsyncd status [flags]   (the ports as SONiC sees them; status -h)\n\nMirrors kernel link state into SONiC's Redis databases.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitConfig
	}
	if *showVersion {
		fmt.Fprintln(stderr, versionString())
		return 0
	}
	if err := (flagValues{RcvBuf: *rcvbuf, MaxRestarts: *maxRestarts, RestartWindow: *restartWindow,
		MaxBackoff: *maxBackoff, DumpDir: *dumpDir, DumpDirSet: isSet(fs, "dump-dir"), MetricsAddr: *metricsAddr,
		Recheck: *recheck, Args: fs.Args()}).validate(); err != nil {
		fmt.Fprintf(stderr, "portsyncd: %v\n", err)
		return exitConfig
	}
	logs, logLevel, err := logFlags.open(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd: %v\n", err)
		return exitConfig
	}
	defer logs.Close()
	log, libLog := logs.Logger, logs.Lib("protoactor", slog.LevelWarn)
	settings, err := rt.apply(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd: %v\n", err)
		return exitConfig
	}
	sigs := handleSignals(log)
	defer sigs.stop()

	if *mlock {
		if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE); err != nil {
			fmt.Fprintf(stderr, "portsyncd: --mlock: %v\n", err)
			return exitConfig
		}
	}

	if *cpuProfile != "" {
		// Never through a symlink: root must not truncate what one names.
		f, err := os.OpenFile(*cpuProfile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
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
	if *lockDir != "" {
		// Kept so that units and scripts passing it still start: one
		// portsyncd per namespace and database set is now kept by
		// start-up's abstract socket (package instance), with no file.
		log.Warn("--lock-dir is deprecated and ignored: no lock file is used", "lock_dir", *lockDir)
	}

	dbs, err := sonicdb.Open(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd: %s: %v\n", *dbConfig, err)
		return exitConfig
	}
	defer dbs.Close()

	ctx := sigs.ctx
	// Logged only once the configuration is good: a bad one is one line.
	logging.Notice(log, "go runtime settings", settings...)
	defer followLevel(ctx, dbs.Config, logLevel, log)()
	err = daemon.Run(ctx, dbs, daemon.Options{
		RcvBuf:           *rcvbuf,
		MaxRestarts:      *maxRestarts,
		RestartWindow:    *restartWindow,
		MaxBackoff:       *maxBackoff,
		PortTableRecheck: *recheck,
		Watchdog:         2 * time.Second,
		DrainTimeout:     1500 * time.Millisecond,
		MetricsAddr:      *metricsAddr,
		DumpDir:          *dumpDir,
		KstatsEvery:      5 * time.Second,
		Logger:           log,
		LibLogger:        libLog,
	}, daemon.Requests{DumpState: sigs.dump, Resync: sigs.resync, Faults: faults()}, nil)
	if isConfigError(err) {
		// Another copy, a password, an ACL or a missing database does not
		// change by waiting or restarting.
		log.Error("portsyncd cannot start", "err", err)
		return ExitConfig
	}
	if err != nil && ctx.Err() != nil {
		// Asked to stop before the pipeline ran (waiting for Redis, or
		// in start-up): nothing is pending, so this is a clean stop.
		logging.Notice(log, "stopped before running", "err", err)
		return 0
	}
	if err != nil {
		log.Error("portsyncd stopped", "err", err)
		return exitFailure
	}
	return 0
}
