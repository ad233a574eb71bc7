// Package supervisor is the parent of portsyncd's actors: it spawns them
// (through a function it is given) and decides, when one fails, whether it is
// restarted or the process gives up. More than MaxRestarts restarts within
// Window ends the daemon with an error, so that systemd or SONiC's
// supervisord starts a clean process: a daemon that runs on with wrong state
// is worse than one that exits.
//
// It owns restart policy and escalation only: not the start-up sequence
// (startup), nor signals (cmd/portsyncd), nor the watchdog and drain
// (daemon), nor any decision about ports.
package supervisor
