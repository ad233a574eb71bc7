// Package dbwriter writes portsyncd's state to Redis.
//
// The actor folds every update into a map keyed by port (the newest state
// wins, a DEL supersedes what came before, an update equal to what was last
// written is dropped) and, once its mailbox holds nothing older, writes
// everything pending as one pipelined batch, on its pipeline's actors.Loop,
// waiting at most Config.Timeout. A batch that fails to reach Redis in time
// is taken back whole and retried with capped backoff while newer updates
// keep coalescing; memory stays bounded by the number of ports however long
// Redis is away. A restarted server (new run_id) gets all state portsyncd
// owns written again. Writes Redis rejects are held and retried on a timer.
//
// SONiC writes STATE_DB only for ports in APPL_DB PORT_TABLE. A goroutine
// owned by the actor follows that table by keyspace events when Redis sends
// them (it never enables them): an event that the entry exists releases the
// port's held write, a del makes the writer check the port again before its
// next write. Without events (or while the subscription is being made
// again) every write checks with EXISTS and held writes are checked again
// every Config.Recheck.
//
// It never decides what a link event means (portstate), and never waits for
// Redis longer than Config.Timeout: a stalled Redis must not look like a
// wedged actor.
package dbwriter
