// Package instance keeps one portsyncd per network namespace and database
// set. The guard is an abstract unix socket (unix(7)): its name lives in the
// network namespace, not in a file system, so there is no file to follow,
// plant a symlink at, or leave behind, and the kernel releases it when the
// holder dies, however it dies.
//
// The name is derived from what identifies the databases, not from how they
// are reached: each Redis server's run_id (INFO server) and the database
// numbers of APPL_DB, CONFIG_DB and STATE_DB. Two daemons reaching one
// server through different sockets, TCP, or different flags get the same
// name; daemons in different network namespaces never collide.
//
// It never connects to Redis (the caller reads the run_ids) and takes no
// decision beyond "held or not".
package instance
