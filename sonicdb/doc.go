// Package sonicdb speaks SONiC's conventions on Redis: which database holds
// what, the names of portsyncd's keys, the APPL_DB producer protocol, the
// start-up reads, and noticing that a Redis server restarted.
//
// It owns the Redis clients. It never decides what to write: the actors do.
package sonicdb
