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
	"github.com/sonic-go/portsyncd/buildinfo"
	"github.com/sonic-go/portsyncd/daemon"
	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/metrics"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "status":
			os.Exit(runStatus(os.Args[2:], os.Stdout, os.Stderr))
		case "doctor":
			os.Exit(runDoctor(os.Args[2:], os.Stdout, os.Stderr))
		case "manpage": // for packaging; not in --help
			os.Exit(runManpage(os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// daemonFlags are the daemon's command-line flags, once parsed.
type daemonFlags struct {
	dbConfig, cpuProfile, dumpDir, metricsAddr, lockDir string
	rcvbuf, maxRestarts                                 int
	restartWindow, maxBackoff, recheck                  time.Duration
	mlock, showVersion, failFast, pprof                 bool
	ns                                                  *nsFlags
	log                                                 *logFlags
	rt                                                  *runtimeFlags
}

// newDaemonFlagSet defines every flag of the daemon: run parses them, the
// man page (portsyncd manpage) is written from them.
func newDaemonFlagSet() (*flag.FlagSet, *daemonFlags) {
	fs := flag.NewFlagSet("portsyncd", flag.ContinueOnError)
	d := &daemonFlags{}
	fs.StringVar(&d.dbConfig, "db-config", dbconfig.DefaultPath, "path of SONiC's `database_config.json`")
	d.ns = addNamespaceFlags(fs)
	fs.BoolVar(&d.failFast, "fail-fast", false, "with --namespace: exit when one namespace keeps failing, instead of reporting it down while the others keep serving")
	d.log = addLogFlags(fs)
	fs.IntVar(&d.rcvbuf, "netlink-rcvbuf", 16<<20, "netlink receive buffer in `bytes` (SO_RCVBUFFORCE when permitted)")
	fs.IntVar(&d.maxRestarts, "max-restarts", 5, "actor restarts tolerated within --restart-window before exiting")
	fs.DurationVar(&d.restartWindow, "restart-window", time.Minute, "window for --max-restarts")
	fs.DurationVar(&d.maxBackoff, "redis-max-backoff", 2*time.Second, "cap on the wait between Redis retries")
	fs.DurationVar(&d.recheck, "port-table-recheck", dbwriter.DefaultRecheck, "without keyspace events from APPL_DB: how often to check again for ports not yet in PORT_TABLE")
	fs.StringVar(&d.cpuProfile, "cpu-profile", "", "write a CPU profile to this `file` until exit (for performance work)")
	fs.StringVar(&d.dumpDir, "dump-dir", "/run/portsyncd", "`directory` for the state dumps SIGUSR1 asks for (the newest 10 are kept)")
	fs.StringVar(&d.metricsAddr, "metrics-addr", metrics.DefaultAddr, "serve /metrics, /healthz, /readyz and /debug/actors on this `address` (empty: not served)")
	fs.BoolVar(&d.mlock, "mlock", false, "lock all memory (mlockall) so the daemon never waits on a page fault; needs CAP_IPC_LOCK")
	fs.StringVar(&d.lockDir, "lock-dir", "", "deprecated, ignored: one portsyncd per network namespace and database set is kept without a file")
	fs.BoolVar(&d.pprof, "pprof", false, "also serve net/http/pprof's /debug/pprof/ on --metrics-addr, which must then be a loopback address (scripts/profile.sh)")
	fs.BoolVar(&d.showVersion, "version", false, "print the version, commit, build date and Go version, and exit")
	d.rt = addRuntimeFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: portsyncd [flags]\n       portsyncd status [flags]   (the ports as SONiC sees them; status -h)\n       portsyncd doctor [flags]   (checks this host for portsyncd; doctor -h)\n\nMirrors kernel link state into SONiC's Redis databases.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, d
}

// parseFlags parses args into fs. --help prints the usage on stdout
// (status ExitOK, done); a parse error is one line on stderr (ExitUsage,
// done).
func parseFlags(fs *flag.FlagSet, name string, args []string, stdout, stderr io.Writer) (code int, done bool) {
	fs.SetOutput(io.Discard) // flag would print the whole usage after an error
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return ExitOK, true
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v (%s --help lists the flags)\n", name, err, name)
		return ExitUsage, true
	}
	fs.SetOutput(stderr)
	return 0, false
}

func run(args []string, stdout, stderr io.Writer) int {
	fs, d := newDaemonFlagSet()
	if code, done := parseDaemonFlags(fs, d, args, stdout, stderr); done {
		return code
	}
	logs, logLevel, err := d.log.open(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd: %v\n", err)
		return ExitUsage
	}
	defer logs.Close()
	settings, err := d.rt.apply(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd: %v\n", err)
		return ExitUsage
	}
	sigs := handleSignals(logs.Logger)
	defer sigs.stop()
	if d.mlock {
		if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE); err != nil {
			fmt.Fprintf(stderr, "portsyncd: --mlock: %v\n", err)
			return ExitConfig
		}
	}
	stopProfile, err := startCPUProfile(d.cpuProfile)
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd: --cpu-profile: %v\n", err)
		return ExitConfig
	}
	defer stopProfile()
	if d.lockDir != "" {
		// Kept so that units and scripts passing it still start: one
		// portsyncd per namespace and database set is now kept by
		// start-up's abstract socket (package instance), with no file.
		logs.Logger.Warn("--lock-dir is deprecated and ignored: no lock file is used", "lock_dir", d.lockDir)
	}
	targets, err := openTargets(d.dbConfig, d.ns)
	if err != nil {
		fmt.Fprintf(stderr, "portsyncd: %v\n", err)
		return ExitConfig
	}
	defer func() {
		for _, tg := range targets {
			tg.close()
		}
	}()
	// Logged only once the configuration is good: a bad one is one line.
	logging.Notice(logs.Logger, "go runtime settings", settings...)
	// One level for the process: the first namespace's LOGGER|portsyncd.
	defer followLevel(sigs.ctx, targets[0].dbs.Config, logLevel, logs.Logger)()
	return runDaemon(sigs, targets, d, logs)
}

// parseDaemonFlags parses and checks the daemon's flags; done says run
// should return code (--help, --version, or a usage error).
func parseDaemonFlags(fs *flag.FlagSet, d *daemonFlags, args []string, stdout, stderr io.Writer) (code int, done bool) {
	if code, done := parseFlags(fs, "portsyncd", args, stdout, stderr); done {
		return code, true
	}
	if d.showVersion {
		fmt.Fprintln(stdout, buildinfo.Get())
		return ExitOK, true
	}
	if err := (flagValues{RcvBuf: d.rcvbuf, MaxRestarts: d.maxRestarts, RestartWindow: d.restartWindow,
		MaxBackoff: d.maxBackoff, DumpDir: d.dumpDir, DumpDirSet: isSet(fs, "dump-dir"), MetricsAddr: d.metricsAddr,
		Recheck: d.recheck, Pprof: d.pprof, Args: fs.Args()}).validate(); err != nil {
		fmt.Fprintf(stderr, "portsyncd: %v\n", err)
		return ExitUsage, true
	}
	if len(d.ns.names) > 0 && isSet(fs, "db-config") {
		fmt.Fprintf(stderr, "portsyncd: --db-config and --namespace: a namespace's databases come from --db-global-config\n")
		return ExitUsage, true
	}
	return 0, false
}

// startCPUProfile starts --cpu-profile when a file is named; the returned
// function stops it.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	// Never through a symlink: root must not truncate what one names.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		return nil, err
	}
	return pprof.StopCPUProfile, nil
}

// runDaemon runs the daemon (over one namespace, or several) until it stops
// and maps how it stopped to an exit status.
func runDaemon(sigs *signals, targets []target, d *daemonFlags, logs *logging.Logging) int {
	ctx, log := sigs.ctx, logs.Logger
	bi := buildinfo.Get()
	opts := daemon.Options{
		RcvBuf:           d.rcvbuf,
		MaxRestarts:      d.maxRestarts,
		RestartWindow:    d.restartWindow,
		MaxBackoff:       d.maxBackoff,
		PortTableRecheck: d.recheck,
		Watchdog:         2 * time.Second,
		DrainTimeout:     1500 * time.Millisecond,
		MetricsAddr:      d.metricsAddr,
		Pprof:            d.pprof,
		DumpDir:          d.dumpDir,
		KstatsEvery:      5 * time.Second,
		Logger:           log,
		LibLogger:        logs.Lib("protoactor", slog.LevelWarn),
		FailFast:         d.failFast,
		Build:            metrics.BuildInfo{Version: bi.Version, Commit: bi.Commit, GoVersion: bi.GoVersion},
	}
	req := daemon.Requests{DumpState: sigs.dump, Resync: sigs.resync, Faults: faults()}
	var err error
	if len(d.ns.names) == 0 {
		err = daemon.Run(ctx, targets[0].dbs, opts, req, nil)
	} else {
		nss := make([]daemon.Namespace, len(targets))
		for i, tg := range targets {
			nss[i] = daemon.Namespace{Name: tg.name, DBs: tg.dbs, Netns: tg.netns}
		}
		err = daemon.RunNamespaces(ctx, nss, opts, req)
	}
	if isConfigError(err) {
		// Another copy, a password, an ACL or a missing database does not
		// change by waiting or restarting.
		logs.Fatal("portsyncd cannot start", "err", err)
		return ExitConfig
	}
	if errors.Is(err, daemon.ErrUnwritten) {
		// Asked to stop, but Redis did not take everything: say so, and
		// not with the status of a clean stop.
		logs.Fatal("portsyncd stopped with port state unwritten", "err", err)
		return ExitFailure
	}
	if err != nil && ctx.Err() != nil {
		// Asked to stop before the pipeline ran (waiting for Redis, or
		// in start-up): nothing is pending, so this is a clean stop.
		logging.Notice(log, "stopped before running", "err", err)
		return 0
	}
	if err != nil {
		logs.Fatal("portsyncd stopped", "err", err)
		return ExitFailure
	}
	return 0
}
