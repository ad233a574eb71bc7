package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/actors/netlinkrx"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// startup is what SONiC's start-up sequence established, read-only once the
// pipeline runs.
type startup struct {
	switchType   string
	warm         bool
	restoreCount int64
	ports        []sonicdb.Port
	pending      []string
	old          map[uint32]bool
	netlink      *netlinkrx.Start
}

// start performs steps 1 to 6 of SONiC's start-up. Step 7, processing link
// messages, is the pipeline's.
func start(ctx context.Context, dbs *sonicdb.DBs, rcvbuf int, log *slog.Logger) (*startup, error) {
	var st startup
	var err error
	// 1. switch_type.
	if st.switchType, err = sonicdb.SwitchType(ctx, dbs.Config); err != nil {
		return nil, err
	}
	// 2. Warm-start check and restore_count.
	if st.warm, st.restoreCount, err = sonicdb.WarmStart(ctx, dbs.State); err != nil {
		return nil, err
	}
	log.Info("starting", "switch_type", st.switchType, "warm", st.warm, "restore_count", st.restoreCount)

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
	st.netlink = &netlinkrx.Start{Sockets: socks, Dump: dump}
	if socks.RcvBuf < rcvbuf {
		log.Warn("netlink receive buffer smaller than asked", "asked", rcvbuf, "got", socks.RcvBuf)
	}
	log.Info("netlink socket ready", "rcvbuf", socks.RcvBuf, "links", len(dump))

	fail := func(err error) (*startup, error) {
		socks.Close()
		return nil, err
	}
	// 4. Port configuration: published to APPL_DB on a cold start only;
	// every configured port is pending in both modes.
	if st.ports, err = sonicdb.LoadPorts(ctx, dbs.Config); err != nil {
		return fail(err)
	}
	for _, p := range st.ports {
		st.pending = append(st.pending, p.Name)
	}
	if !st.warm {
		if err := publishConfig(ctx, dbs.Appl, st.ports); err != nil {
			return fail(err)
		}
		log.Info("port configuration published", "ports", len(st.ports))
		// 5. Ports orchagent already initialised are not waited for.
		done, err := sonicdb.InitializedPorts(ctx, dbs.Appl, st.pending)
		if err != nil {
			return fail(err)
		}
		st.pending = slices.DeleteFunc(st.pending, func(p string) bool { return done[p] })
	}

	// 6. Old interfaces: on a cold start, the Ethernet netdevs that exist
	// already are brought down and ignored from now on (not on a DPU).
	st.old = make(map[uint32]bool)
	if !st.warm && st.switchType != "dpu" {
		for _, ev := range dump {
			if ev.Kind != messages.NewLink || ev.Family != 0 || !strings.HasPrefix(ev.Name, "Ethernet") {
				continue
			}
			if err := netlinkrx.SetAdminDown(ev.Index); err != nil {
				return fail(err)
			}
			st.old[ev.Index] = true
			log.Info("old interface brought down", "port", ev.Name, "ifindex", ev.Index)
		}
	}
	return &st, nil
}

// publishConfig publishes every CONFIG_DB port, then PortConfigDone with
// their count, in one pipeline, and checks every reply.
func publishConfig(ctx context.Context, appl *sonicdb.DB, ports []sonicdb.Port) error {
	pipe := appl.Client.Pipeline()
	cmds := make([]*redis.Cmd, 0, len(ports)+1)
	for _, p := range ports {
		cmds = append(cmds, sonicdb.ProducerSet(ctx, pipe, appl, sonicdb.PortTable, p.Name, p.Fields))
	}
	cmds = append(cmds, sonicdb.ProducerSet(ctx, pipe, appl, sonicdb.PortTable, sonicdb.PortConfigDone,
		[]string{"count", fmt.Sprint(len(ports))}))
	pipe.Exec(ctx)
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return fmt.Errorf("supervisor: publish port configuration: %w", err)
		}
	}
	return nil
}
