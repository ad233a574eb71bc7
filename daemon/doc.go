// Package daemon runs portsyncd: it waits for Redis, performs SONiC's
// start-up (package startup), starts the actor system with a supervisor
// over one pipeline (package pipeline), and then serves the operator's
// requests until told to stop: state dumps, resynchronisations, injected
// faults (test builds). A watchdog ends the run when an actor stops
// answering; a shutdown drains what was read to Redis first.
//
// It never handles signals itself (cmd/portsyncd turns them into the
// channels of Requests) and never exits the process.
package daemon
