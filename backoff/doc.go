// Package backoff is the one capped exponential backoff of portsyncd: the
// Redis writer, the Redis dial at start, the APPL_DB watch and the syslog
// and journal sinks wait between retries with it.
//
// It owns the sequence of waits (initial, doubling, capped) and waiting
// for one. It never retries anything itself, logs, or adds jitter: one
// daemon per switch retries against its own local Redis, so there is no
// herd to spread.
package backoff
