// Package sonicdb is portsyncd's Redis side of SONiC: the clients of the
// three databases, the APPL_DB producer protocol, the start-up reads,
// noticing that a Redis server restarted, and telling refusals no retry
// mends (a password, an ACL, a missing database number) from failures worth
// retrying. The names and values it sends are package sonic's.
//
// It owns the Redis clients. It never decides what to write: the actors do.
package sonicdb
