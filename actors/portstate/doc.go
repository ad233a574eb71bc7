// Package portstate decides what SONiC's STATE_DB must say about each port.
//
// Core is the decision, pure and table-tested: it applies SONiC's filters to
// every link event (Classify), tracks ifindex to name (a rename deletes the
// old name's key), reconciles its view against each complete dump, keeps the
// set of configured ports still waiting for their first acknowledged
// STATE_DB write, and says when PortInitDone is due. OldInterfaces and
// Pending are the start-up rules (docs/SONIC_CONTRACT.md section 2, steps 5
// and 6), used by package startup. The names and values the rules test
// (port names, reasons, flags) are package sonic's.
//
// The actor feeds one Core: it takes LinkBatches from
// netlinkrx and acknowledgements from dbwriter, and sends dbwriter one
// StateOps per batch. It runs on its pipeline's actors.Loop.
//
// It never does I/O: not netlink (netlinkrx) and not Redis (dbwriter).
package portstate
