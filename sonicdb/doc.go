// Package sonicdb speaks SONiC's conventions on Redis: which database holds
// what, the names of portsyncd's keys, the APPL_DB producer protocol, the
// start-up reads, noticing that a Redis server restarted, and telling
// refusals no retry mends (a password, an ACL, a missing database number)
// from failures worth retrying. It also holds the pure rules on CONFIG_DB
// port names (reserved markers, names that can never be a link).
//
// It owns the Redis clients. It never decides what to write: the actors do.
package sonicdb
