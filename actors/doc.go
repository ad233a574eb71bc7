// Package actors holds what portsyncd's actors share; the actors themselves
// live in the packages below it.
//
// # The pipeline
//
//	kernel --rtnetlink--> netlinkrx --LinkBatch--> portstate router --> port actors
//	                                                     ^                   |
//	                                              StateWritten        StateWrite/StateDelete
//	                                                     |                   v
//	                                                     +-------------- dbwriter --pipeline--> Redis
//
// The supervisor is the parent of netlinkrx, portstate and dbwriter; the
// router is the parent of one actor per port name.
//
// # Flow control: every mailbox is bounded
//
// protoactor-go's bounded mailbox busy-spins its sender when full, so no
// mailbox here relies on it. Instead:
//
//   - netlinkrx -> portstate: credits (messages.Credits). The reader
//     goroutine takes a credit before it sends a batch and blocks, without
//     spinning, when none is left; the router returns it when every port
//     actor has handled the batch. While the reader waits the kernel queues
//     events in the socket's receive buffer; if that overruns, the reader
//     resynchronises from a dump. So the router's mailbox holds at most
//     `credits` batches, and the port actors' mailboxes at most the events of
//     those batches.
//   - port actors -> dbwriter: dbwriter's Receive only folds each update into
//     a map keyed by port (newest state wins, a DEL supersedes what came
//     before), which is bounded by the number of ports. Its mailbox drains
//     at memory speed, never at Redis speed, and holds at most the
//     messages of the batches in flight.
//   - dbwriter -> Redis: one batch in flight. While it is, new updates
//     coalesce; when it returns, everything pending goes in the next one.
//     During a Redis outage the pending map keeps only the newest state per
//     port, so memory does not grow with the outage's length.
//   - dbwriter -> portstate (StateWritten) and the control messages
//     (ResyncRequest, Flush, DumpState, PublishInitDone) are answers to
//     bounded work or rare events.
//
// Blocking I/O never runs inside Receive: netlinkrx's socket reader and
// dbwriter's Redis writer are goroutines owned by their actors, started in
// Started and stopped in Stopping/Restarting.
//
// # Failure
//
// A panicking actor is restarted by its parent with its stack logged
// (Recover). A restarted actor trusts nothing it had: it asks for a complete
// dump of the kernel's links and rebuilds from it before it writes.
package actors
