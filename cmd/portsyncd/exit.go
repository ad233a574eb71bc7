package main

// Exit statuses of portsyncd, in one place. A configuration or usage error
// must not share a status with a crash: a Go panic or a fatal runtime error
// exits 2, a signal's default action 128+N, so RestartPreventExitStatus= in
// the systemd unit can stop a restart loop on a bad configuration (64, 78)
// without stopping restarts after a crash. 64 and 78 are sysexits.h's
// EX_USAGE and EX_CONFIG.
const (
	// ExitOK: a clean stop (SIGTERM drained), --help, --version.
	ExitOK = 0
	// ExitFailure: a failure at run time (actors kept failing, Redis lost
	// for good); SONiC restarts the container or systemd the service.
	ExitFailure = 1
	// ExitUsage: the command line is wrong (an unknown flag, a value out of
	// range, a positional argument). Restarting cannot help.
	ExitUsage = 64
	// ExitConfig: the configuration the command line points at is wrong or
	// unusable (database_config.json missing or malformed, a database
	// missing, Redis refusing the credentials, another portsyncd holding the
	// namespace's lock). Restarting cannot help.
	ExitConfig = 78
)
