// Package dbwriter writes portsyncd's state to Redis.
//
// The actor folds every update into a map keyed by port (the newest state
// wins, a DEL supersedes what came before, an update equal to what was last
// written is dropped) and hands everything pending to its writer goroutine
// as one pipelined batch whenever that goroutine is idle. A batch whose
// connection fails is retried whole with capped backoff while newer updates
// keep coalescing; memory stays bounded by the number of ports however long
// Redis is away. A restarted server (new run_id) gets all state portsyncd
// owns written again. Writes Redis rejects, and STATE_DB writes for ports not
// yet in APPL_DB PORT_TABLE, are held and retried on a timer.
//
// It never decides what a link event means (portstate), and Redis I/O never
// runs inside Receive.
package dbwriter
