package startup

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sonic-go/portsyncd/actors/netlinkrx"
	"github.com/sonic-go/portsyncd/actors/portstate"
	"github.com/sonic-go/portsyncd/backoff"
	"github.com/sonic-go/portsyncd/instance"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/sonic"
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
	// Guard keeps other copies of portsyncd away from this network
	// namespace and these databases until the process ends (or Close).
	Guard *instance.Guard
}

// Run performs steps 1 to 6 of SONiC's start-up. Step 7, processing link
// messages, is the pipeline's; so is step 4's publication to APPL_DB, which
// dbwriter makes as its first write.
//
// Before step 1, with no side effect yet: it takes the single-instance
// guard (an error matching instance.ErrHeld when another portsyncd runs for
// this namespace and these databases) and asks Redis whether portsyncd's
// user may run every command it will need (sonicdb.CheckPermissions; an
// error matching sonicdb.ErrRefused if not).
func Run(ctx context.Context, dbs *sonicdb.DBs, rcvbuf int, log *slog.Logger) (*Result, error) {
	return RunIn(ctx, dbs, rcvbuf, 0, log)
}

// RunIn is Run for the links of the network namespace whose file
// descriptor is netns (0: the process's own): the guard is bound there,
// the netlink sockets are opened there and old interfaces are taken down
// there, while the process stays in its own namespace.
func RunIn(ctx context.Context, dbs *sonicdb.DBs, rcvbuf, netns int, log *slog.Logger) (*Result, error) {
	var r Result
	var err error

	// 0. One portsyncd per namespace and database set, then permissions.
	if r.Guard, err = takeGuard(ctx, dbs, netns); err != nil {
		return nil, err
	}
	log.Info("single-instance guard taken", "guard", "@"+r.Guard.Name())
	ok := false
	defer func() {
		if !ok {
			r.Guard.Close()
		}
	}()
	if err := sonicdb.CheckPermissions(ctx, dbs); err != nil {
		return nil, err
	}

	// 1. switch_type.
	if r.SwitchType, err = sonicdb.SwitchType(ctx, dbs.Config); err != nil {
		return nil, err
	}
	// 2. Warm-start check and restore_count. A Redis that refuses writes
	// for now (out of memory, a replica) is waited for, as at run time.
	if r.Warm, r.RestoreCount, err = warmStart(ctx, dbs.State, log); err != nil {
		return nil, err
	}
	logging.Notice(log, "starting", "switch_type", r.SwitchType, "warm", r.Warm, "restore_count", r.RestoreCount)

	// 3. Join RTNLGRP_LINK, then dump, so no change in between is lost.
	socks, err := netlinkrx.Open(rcvbuf, netlinkrx.InNetns(netns))
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
	ports, err := sonicdb.LoadPorts(ctx, dbs.Config)
	if err != nil {
		return fail(err)
	}
	r.Ports = checkPortNames(ports, log)
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
		if err := netlinkrx.SetAdminDown(ev.Index, netlinkrx.InNetns(netns)); err != nil {
			return fail(err)
		}
		r.Old[ev.Index] = true
		logging.Notice(log, "old interface brought down", "port", ev.Name, "ifindex", ev.Index)
	}
	ok = true
	return &r, nil
}

// warmStart is sonicdb.WarmStart, retried with backoff while Redis refuses
// writes for now.
func warmStart(ctx context.Context, state *sonicdb.DB, log *slog.Logger) (warm bool, restoreCount int64, err error) {
	b := backoff.New(100*time.Millisecond, 2*time.Second)
	for attempt := 1; ; attempt++ {
		warm, restoreCount, err = sonicdb.WarmStart(ctx, state)
		if !sonicdb.RefusesForNow(err) {
			return warm, restoreCount, err
		}
		wait := b.Next()
		log.Warn("redis refuses writes; retrying", "db", state.Name, "attempt", attempt, "retry_in", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return false, 0, fmt.Errorf("startup: %w (redis refused writes: %w)", ctx.Err(), err)
		}
	}
}

// takeGuard takes the single-instance guard named after the run_id of each
// database's server and the database numbers (see package instance).
func takeGuard(ctx context.Context, dbs *sonicdb.DBs, netns int) (*instance.Guard, error) {
	var ids []instance.DB
	for _, db := range []*sonicdb.DB{dbs.Appl, dbs.Config, dbs.State} {
		id, err := sonicdb.ServerID(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("startup: single-instance guard: %w", err)
		}
		ids = append(ids, instance.DB{Name: db.Name, RunID: id, ID: db.ID})
	}
	g, err := instance.TakeIn(instance.Name(ids), netns)
	if err != nil {
		return nil, fmt.Errorf("startup: %w (APPL_DB %d, CONFIG_DB %d, STATE_DB %d on redis run_id %s)",
			err, dbs.Appl.ID, dbs.Config.ID, dbs.State.ID, ids[0].RunID)
	}
	return g, nil
}

// checkPortNames drops the CONFIG_DB ports named like portsyncd's own
// progress markers (PortConfigDone, PortInitDone), which publishing would
// forge, and warns once for each name that can never be a tracked link
// (PortInitDone will wait for it for ever; it is still published, as the
// original does, since orchagent may want it).
func checkPortNames(ports []sonicdb.Port, log *slog.Logger) []sonicdb.Port {
	out := ports[:0:0]
	for _, p := range ports {
		if sonic.IsMarker(p.Name) {
			log.Warn("CONFIG_DB port ignored: its name is reserved for portsyncd's own marker", "port", p.Name)
			continue
		}
		if why := sonic.NeverNetdev(p.Name); why != "" {
			log.Warn("CONFIG_DB port can never be a link: PortInitDone will wait for it", "port", p.Name, "reason", why)
		}
		out = append(out, p)
	}
	return out
}
