package startup

import (
	"context"
	"log/slog"

	"github.com/sonic-go/portsyncd/actors/netlinkrx"
	"github.com/sonic-go/portsyncd/actors/portstate"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// Result is what SONiC's start-up sequence established, read-only once the
// pipeline runs.
type Result struct {
	SwitchType   string
	Warm         bool
	RestoreCount int64
	// Ports are the CONFIG_DB PORT entries; a cold start publishes them.
	Ports []sonicdb.Port
	// Pending are the configured ports PortInitDone waits for.
	Pending []string
	// Old are the ifindexes of old interfaces, ignored from now on.
	Old map[uint32]bool
	// Netlink are the sockets, joined to RTNLGRP_LINK, and their first dump.
	Netlink *netlinkrx.Start
}

// Run performs steps 1 to 6 of SONiC's start-up. Step 7, processing link
// messages, is the pipeline's; so is step 4's publication to APPL_DB, which
// dbwriter makes as its first write.
func Run(ctx context.Context, dbs *sonicdb.DBs, rcvbuf int, log *slog.Logger) (*Result, error) {
	var r Result
	var err error

	// 1. switch_type.
	if r.SwitchType, err = sonicdb.SwitchType(ctx, dbs.Config); err != nil {
		return nil, err
	}
	// 2. Warm-start check and restore_count.
	if r.Warm, r.RestoreCount, err = sonicdb.WarmStart(ctx, dbs.State); err != nil {
		return nil, err
	}
	logging.Notice(log, "starting", "switch_type", r.SwitchType, "warm", r.Warm, "restore_count", r.RestoreCount)

	// 3. Join RTNLGRP_LINK, then dump, so no change in between is lost.
	socks, err := netlinkrx.Open(rcvbuf)
	if err != nil {
		return nil, err
	}
	dump, err := socks.Dump(netlinkrx.NewDecoder())
	if err != nil {
		socks.Close()
		return nil, err
	}
	r.Netlink = &netlinkrx.Start{Sockets: socks, Dump: dump}
	if socks.RcvBuf < rcvbuf {
		log.Warn("netlink receive buffer smaller than asked", "asked", rcvbuf, "got", socks.RcvBuf)
	}
	logging.Notice(log, "netlink socket ready", "rcvbuf", socks.RcvBuf, "links", len(dump))
	fail := func(err error) (*Result, error) {
		socks.Close()
		return nil, err
	}

	// 4. Port configuration; every configured port is pending.
	if r.Ports, err = sonicdb.LoadPorts(ctx, dbs.Config); err != nil {
		return fail(err)
	}
	names := make([]string, len(r.Ports))
	for i, p := range r.Ports {
		names[i] = p.Name
	}
	// 5. On a cold start, ports orchagent already initialised are not
	// waited for.
	var initialized map[string]bool
	if !r.Warm {
		if initialized, err = sonicdb.InitializedPorts(ctx, dbs.Appl, names); err != nil {
			return fail(err)
		}
	}
	r.Pending = portstate.Pending(names, initialized, r.Warm)

	// 6. Old interfaces are brought down and ignored from now on.
	r.Old = make(map[uint32]bool)
	for _, ev := range portstate.OldInterfaces(dump, r.Warm, r.SwitchType) {
		if err := netlinkrx.SetAdminDown(ev.Index); err != nil {
			return fail(err)
		}
		r.Old[ev.Index] = true
		logging.Notice(log, "old interface brought down", "port", ev.Name, "ifindex", ev.Index)
	}
	return &r, nil
}
