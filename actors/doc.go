// Package actors holds what portsyncd's actors share: the Loop they run on,
// their bounded Mailbox, and panic handling. The actors themselves live in
// the packages below it.
//
// # Where code runs
//
// An actor's code runs only where the actor runs. A pipeline's three actors
// (netlinkrx, portstate, dbwriter) run on one goroutine, their Loop, which
// is their protoactor-go dispatcher; kstats and the supervisor run on
// protoactor-go's default dispatcher (a goroutine per busy spell). Every
// other goroutine (the watchdog, HTTP handlers, the signal loop, timers,
// dbwriter's keyspace watcher) only posts a message and, for a question,
// waits for the answer with a timeout: none ever executes an actor's code,
// so none can be wedged by one, and none needs a goroutine of its own to
// send.
//
// # One link event, socket to Redis
//
//	Loop goroutine (one per pipeline)
//	  wait: netlink recv (the Loop's Source), while every mailbox is empty
//	  netlinkrx: decode, drop repeats      --LinkBatch--> portstate mailbox
//	  portstate: SONiC's rules (Core)      --StateOps-->  dbwriter mailbox
//	  dbwriter:  coalesce (core), then one pipelined write, waited for
//	             at most Config.Timeout    --StateWritten--> portstate
//	  back to wait
//
// The event crosses no goroutine hand-off: a message between actors of one
// Loop is a queue append, run once the sender's Receive returns. Per event
// the process wakes twice, both in the kernel's netpoller: when the
// datagram arrives and when Redis replies. That is the least a daemon that
// waits for Redis's acknowledgement can do, and what the original does.
// What arrives while a batch is with Redis waits in the kernel's socket
// buffer; the next read takes all of it as one batch, which the core
// coalesces per port, so batches grow with load and a flap storm costs a
// round trip per batch. An overrun of that buffer (ENOBUFS) is answered
// with a complete dump.
//
// Why one goroutine and not one per actor: with a reader goroutine and a
// writer goroutine, each event paid two more wake-ups and a hand-off, and
// the actors still ran on their senders' goroutines. Why three actors on it
// and not one: each keeps its own state, messages and restart. A panic in
// one restarts that one (its mailbox is suspended meanwhile and the Loop
// reads no input until it is back); the others, and the Loop, go on.
//
// Why Redis I/O on the Loop: a write is waited for with a deadline
// (dbwriter.Config.Timeout, under the watchdog's period), so a stalled
// Redis is an outage (the batch is taken back, newer state coalesces, a
// timer retries with backoff) and the actors keep answering heartbeats;
// only a wedged actor goes silent, and the watchdog then ends the process.
//
// # Every mailbox is bounded
//
// Every actor's mailbox is a Mailbox: at most DefaultMailboxLimit user
// messages; beyond that, a message is dropped and counted (Dropped), never
// queued and never waited for, and a question dropped so is answered by its
// timeout. What bounds each input:
//
//   - LinkBatch (netlinkrx -> portstate): the Loop reads its Source only
//     when every mailbox on it is empty, so at most one batch waits.
//   - StateOps (portstate -> dbwriter): one per batch: at most one waits.
//   - StateWritten (dbwriter -> portstate): one per write, and writes are
//     one at a time.
//   - dbwriter's own ticks (write due, retry, probe, re-check): each armed
//     only while none of its kind waits.
//   - Keyspace events: the watcher gathers them per port and posts one
//     notice while none waits.
//   - Heartbeats: the watchdog asks each actor once per period and waits
//     for the answer or the period.
//   - State dumps and readiness: SIGUSR1 asks one dump at a time; the HTTP
//     server serves a few connections at once, and asks the actors at most
//     once a second whatever the request rate.
//
// The data path's messages are Essential and never dropped: dropping one
// would lose state, and the Loop bounds them as above. The limit is for
// what other goroutines post. TestIntegrationMailboxesStayBounded floods
// every input at once and checks each mailbox's peak.
//
// # Failure
//
// A panicking actor is restarted by its parent with its stack logged
// (Rethrow). A restarted actor trusts nothing it had: it asks netlinkrx for
// a complete dump of the kernel's links and rebuilds from it before it
// writes. A wedged actor blocks its Loop, and so its pipeline; the watchdog
// notices the missing heartbeats within two periods and the process exits
// for systemd to start a clean one.
package actors
