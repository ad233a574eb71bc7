// Package actors holds what portsyncd's actors share; the actors themselves
// live in the packages below it.
//
// # The pipeline
//
//	                 reader goroutine (netlinkrx)                      writer goroutine (dbwriter)
//	kernel --recv--> decode --> portstate.Core --> dbwriter core --batch--> Redis pipeline
//	                              ^   (inline)       (inline)     [hand-off]       |
//	                              |                                                |
//	                              +--- StateWritten (inline, on the writer goroutine)
//
// Per event, between the socket and the Redis write there is one goroutine
// hand-off: the batch the reader goroutine gives the writer goroutine over a
// channel of one. Everything before it runs on the reader goroutine:
// netlinkrx's reader sends the LinkBatch to portstate, and portstate sends
// its StateOps to dbwriter, on actors.Inline, whose mailbox runs on the
// sender's goroutine whenever the actor is idle. When a batch is already
// with Redis, the work is queued in dbwriter's core and the writer
// goroutine, having taken its result (inline too), starts the next batch
// itself: still one hand-off. The acknowledgement back to portstate, and a
// PortInitDone it may ask for, run on the writer goroutine.
//
// Why one portstate actor over a map and not an actor per port: a port
// actor only forwarded what the router had decided (ifindex to name, the
// pending set and PortInitDone are facts across ports), and cost a mailbox
// post and a hop per event; its failure isolation was nominal, since a port
// actor's panic escalated to the router anyway. A panic in portstate now
// restarts it, and a fresh dump rebuilds every port within milliseconds.
//
// The supervisor (package supervisor) is the parent of netlinkrx, portstate
// and dbwriter, spawned as one unit by package pipeline.
//
// # Flow control: every mailbox is bounded
//
// protoactor-go's bounded mailbox busy-spins its sender when full, so no
// mailbox here relies on it. Instead:
//
//   - netlinkrx -> portstate: credits (messages.Credits). The reader
//     goroutine takes a credit before it sends a batch and blocks, without
//     spinning, when none is left; portstate returns it once it has decided
//     the batch. While the reader waits the kernel queues events in the
//     socket's receive buffer; if that overruns, the reader resynchronises
//     from a dump. So portstate's mailbox holds at most `credits` batches.
//   - portstate -> dbwriter: one StateOps per batch, and dbwriter's Receive
//     only folds it into a map keyed by port (newest state wins, a DEL
//     supersedes what came before), bounded by the number of ports. Its
//     mailbox drains at memory speed, never at Redis speed.
//   - dbwriter -> Redis: one batch in flight. While it is, new updates
//     coalesce; when it returns, everything pending goes in the next one.
//     During a Redis outage the pending map keeps only the newest state per
//     port, so memory does not grow with the outage's length.
//   - dbwriter -> portstate (StateWritten) and the control messages
//     (ResyncRequest, Flush, Heartbeat, DumpState) are answers to bounded
//     work or rare events.
//
// Blocking I/O never runs inside Receive: netlinkrx's socket reader,
// dbwriter's Redis writer and its APPL_DB keyspace watcher are goroutines
// owned by their actors, started in Started and stopped in
// Stopping/Restarting.
//
// # Failure
//
// A panicking actor is restarted by its parent with its stack logged
// (Rethrow). A restarted actor trusts nothing it had: it asks netlinkrx for
// a complete dump of the kernel's links and rebuilds from it before it
// writes. An Inline actor that wedges blocks only the goroutine that
// entered it; the daemon's watchdog notices the missing heartbeat.
package actors
