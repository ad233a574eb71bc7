// Package status builds the operator's view behind "portsyncd status": every
// port SONiC knows of, what CONFIG_DB, APPL_DB and STATE_DB say about it, and,
// when the kernel's links can be seen, whether STATE_DB agrees with them.
//
// It owns the rules of that view (Build), its two renderings (Table for
// people, JSON for scripts), the redraw loop of --watch (Watch), and the
// reads behind it (ReadDBs from Redis, ReadKernel from rtnetlink). Build and
// the renderings are pure; the reads never write. It never talks to the
// daemon and never changes Redis or the kernel.
//
// # Columns
//
// LANES and SPEED are the port's configuration (the consumed APPL_DB entry,
// else CONFIG_DB). MTU, ADMIN and OPER are what STATE_DB PORT_TABLE holds
// (mtu, admin_status, netdev_oper_status): what portsyncd last wrote. APPL_DB
// is "consumed" when orchagent has consumed the port's entry
// (PORT_TABLE:<name> exists), "staged" when a change waits for orchagent
// (_PORT_TABLE:<name> or PORT_TABLE_KEY_SET), "consumed+staged" for both and
// "absent" for neither. STATE is the state field of STATE_DB ("ok").
//
// # Comparing with the kernel
//
// Links are read from the network namespace status runs in. They are
// compared only if that namespace has at least one link named like a SONiC
// port (Ethernet*, PortChannel*), so that running status elsewhere does not
// flag every port. DIFF then names, per port:
//
//   - admin, oper, mtu: STATE_DB's admin_status, netdev_oper_status or mtu
//     differs from the link's IFF_UP, IFF_RUNNING or MTU;
//   - missing: the link exists and orchagent consumed the port, but STATE_DB
//     has no entry for it;
//   - stale: STATE_DB holds portsyncd's fields for a link that does not exist.
//
// STATE_DB trails the kernel by the daemon's latency, so a difference seen
// once while links change is expected; one that persists is not.
//
// # JSON schema (--json)
//
// One object; fields are only ever added, under a new "schema" number if
// their meaning changes:
//
//	{
//	  "schema": 1,
//	  "port_config_done": "consumed",      // APPL_DB state of PortConfigDone, as for ports
//	  "port_init_done": "consumed",        // likewise for PortInitDone
//	  "kernel": "compared",                // or "not_read", "no_port_links"
//	  "ports": [{                          // sorted by name, Ethernet4 before Ethernet12
//	    "name": "Ethernet0",
//	    "lanes": "0,1,2,3", "speed": "100000",  // "" when unknown
//	    "mtu": "9100", "admin_status": "up", "netdev_oper_status": "up",  // STATE_DB, "" when absent
//	    "appl_db": "consumed",             // consumed, staged, consumed+staged, absent
//	    "state": "ok",                     // STATE_DB state field, "" when absent
//	    "kernel": {"admin_status": "up", "oper_status": "up", "mtu": "9100"},  // null: no link, or not compared
//	    "diff": ["mtu"]                    // never null; empty when in agreement
//	  }]
//	}
package status
