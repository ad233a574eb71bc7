// Package sonic is SONiC's vocabulary as portsyncd speaks it: table and key
// names, the STATE_DB PORT_TABLE fields and values, the PortConfigDone and
// PortInitDone markers and their payloads, which link names portsyncd
// follows and which can never be a link, the old-interface prefix, which
// interface flags SONiC reads, and why a link event is ignored. Each rule of
// docs/SONIC_CONTRACT.md that is a name or a value lives here once; the
// packages that read or write Redis, decide, count or print import it.
//
// It is pure: it imports nothing of portsyncd's and does no I/O. How a key
// is joined (a database's separator) comes from database_config.json
// (package dbconfig).
package sonic
