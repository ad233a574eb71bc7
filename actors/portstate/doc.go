// Package portstate decides what SONiC's STATE_DB must say about each port.
//
// The router applies SONiC's filters to every link event (Classify), tracks
// ifindex to name (renames delete the old name's key), reconciles its view
// against each complete dump, and gives each event to the actor of that port
// name, so that every write of a STATE_DB key comes from one actor, in order.
// It keeps the set of configured ports still waiting for their first
// acknowledged STATE_DB write and asks dbwriter for PortInitDone once that
// set is empty.
//
// It never does I/O: not netlink (netlinkrx) and not Redis (dbwriter).
package portstate
