// Package startup performs SONiC's start-up sequence (docs/SONIC_CONTRACT.md
// section 2, steps 1 to 6) against Redis and the kernel, in order, and
// returns what it established for the pipeline. Before step 1, with no side
// effect yet, it takes the single-instance guard (package instance) and
// checks Redis's ACL for every command portsyncd will send. It returns: switch type, warm or cold, restore_count,
// the port configuration, the pending ports, the old interfaces, and the
// rtnetlink sockets joined before their first dump.
//
// The rules it applies (which ports are pending, which links are old) are
// portstate's; this package only does the I/O around them. It never
// publishes to APPL_DB (dbwriter owns every APPL_DB write) and never runs a
// shell: old interfaces go down with RTM_SETLINK.
package startup
