package kstats

import (
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/messages"
)

// wait bounds every wait on the actor so that a broken actor fails the test
// instead of hanging it; no assertion depends on how long anything takes.
const wait = 30 * time.Second

func newSystem(t *testing.T) *actor.ActorSystem {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log }))
}

// netlinkSocket opens a NETLINK_ROUTE socket bound to groups (0: none) and
// returns its descriptor, inode and port ID.
func netlinkSocket(t *testing.T, groups uint32) (fd int, inode uint64, portID uint32) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, st.Ino, sa.(*unix.SockaddrNetlink).Pid
}

func next(t *testing.T, samples <-chan *Sample) *Sample {
	t.Helper()
	select {
	case s := <-samples:
		return s
	case <-time.After(wait):
		t.Fatal("no sample")
		return nil
	}
}

func find(s *Sample, inode uint64) (NetlinkSocket, bool) {
	for _, so := range s.Sockets {
		if so.Inode == inode {
			return so, true
		}
	}
	return NetlinkSocket{}, false
}

// TestActorSamplesThisProcess spawns kstats in a real actor system and
// checks its samples against this process's own sockets and rusage.
func TestActorSamplesThisProcess(t *testing.T) {
	listen, listenInode, listenPort := netlinkSocket(t, unix.RTMGRP_LINK)
	sender, senderInode, _ := netlinkSocket(t, 0)
	rcvbuf, err := unix.GetsockoptInt(listen, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		t.Fatal(err)
	}
	// Queue a datagram on the listen socket, from our second socket;
	// unicast between user sockets needs CAP_NET_ADMIN.
	payload := make([]byte, 512)
	queued := unix.Sendto(sender, payload, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: listenPort}) == nil

	samples := make(chan *Sample, 1)
	stats := &Stats{}
	system := newSystem(t)
	t.Cleanup(system.Shutdown)
	pid := system.Root.Spawn(New(Config{
		Interval: 10 * time.Millisecond,
		Stats:    stats,
		RcvBuf:   func() int64 { return int64(rcvbuf) },
		OnSample: func(s *Sample) {
			select {
			case samples <- s:
			default: // the test reads the newest; older ones may go
			}
		},
	}))
	t.Cleanup(func() { system.Root.Stop(pid) })

	s := next(t, samples)
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	if stats.Latest() == nil || stats.Samples.Load() == 0 {
		t.Fatalf("Latest() = %v after %d samples; want a sample published", stats.Latest(), stats.Samples.Load())
	}

	ls, ok := find(s, listenInode)
	if !ok {
		t.Fatalf("listen socket inode %d not among the sample's sockets %+v", listenInode, s.Sockets)
	}
	if ls.Protocol != unix.NETLINK_ROUTE || ls.PortID != listenPort || ls.Groups&unix.RTMGRP_LINK == 0 {
		t.Errorf("listen socket = %+v; want NETLINK_ROUTE, port %d, group RTMGRP_LINK", ls, listenPort)
	}
	if _, ok := find(s, senderInode); !ok {
		t.Errorf("second socket inode %d not among the sample's sockets %+v", senderInode, s.Sockets)
	}
	if queued {
		if ls.Rmem < uint64(len(payload)) {
			t.Errorf("listen socket Rmem = %d with %d bytes queued", ls.Rmem, len(payload))
		}
		if s.NetlinkQueued < ls.Rmem {
			t.Errorf("NetlinkQueued = %d, less than the listen socket's %d", s.NetlinkQueued, ls.Rmem)
		}
	} else {
		t.Log("unicast between netlink sockets refused (not CAP_NET_ADMIN): Rmem not checked")
	}
	if s.RcvBuf != int64(rcvbuf) {
		t.Errorf("RcvBuf = %d, want %d from the RcvBuf func", s.RcvBuf, rcvbuf)
	}
	// Every counter was read before the rusage above: none may exceed it.
	if s.MinorFaults == 0 || s.MinorFaults > uint64(ru.Minflt) || s.MajorFaults > uint64(ru.Majflt) {
		t.Errorf("faults minor %d major %d; rusage afterwards: %d, %d", s.MinorFaults, s.MajorFaults, ru.Minflt, ru.Majflt)
	}
	if s.VoluntaryCtxtSwitches == 0 || s.VoluntaryCtxtSwitches > uint64(ru.Nvcsw) || s.InvoluntaryCtxtSwitches > uint64(ru.Nivcsw) {
		t.Errorf("ctxt switches %d/%d; rusage afterwards: %d/%d", s.VoluntaryCtxtSwitches, s.InvoluntaryCtxtSwitches, ru.Nvcsw, ru.Nivcsw)
	}

	if queued {
		// Read the datagram: a sample taken afterwards must show the
		// queue empty.
		buf := make([]byte, 4096)
		if _, _, err := unix.Recvfrom(listen, buf, 0); err != nil {
			t.Fatal(err)
		}
		readAt := time.Now()
		for !s.Time.After(readAt) {
			s = next(t, samples)
		}
		if ls, ok := find(s, listenInode); !ok || ls.Rmem != 0 {
			t.Errorf("listen socket = %+v (found %v) after reading everything; want Rmem 0", ls, ok)
		}
	}

	res, err := system.Root.RequestFuture(pid, &messages.DumpState{}, wait).Result()
	if err != nil {
		t.Fatal(err)
	}
	d, ok := res.(*messages.StateDump)
	if !ok || d.Actor != "kstats" || d.State["samples"].(uint64) == 0 || d.State["rcvbuf_bytes"] != int64(rcvbuf) {
		t.Errorf("DumpState answered %#v", res)
	}
}

// TestActorRestartsAfterParserPanic makes the stat parser panic once and
// checks that kstats is restarted and samples again.
func TestActorRestartsAfterParserPanic(t *testing.T) {
	var calls atomic.Int32
	samples := make(chan *Sample, 16)
	stats := &Stats{}
	cfg := Config{
		Interval: 10 * time.Millisecond,
		Stats:    stats,
		OnSample: func(s *Sample) {
			select {
			case samples <- s:
			default:
			}
		},
	}
	cfg.parse.stat = func(b []byte) (Stat, error) {
		if calls.Add(1) == 2 {
			panic("injected parser panic")
		}
		return ParseStat(b)
	}
	system := newSystem(t)
	t.Cleanup(system.Shutdown)
	pid := system.Root.Spawn(New(cfg))
	t.Cleanup(func() { system.Root.Stop(pid) })

	first := next(t, samples)
	if r := stats.Restarts.Load(); r != 0 {
		t.Fatalf("restarts = %d before the panic", r)
	}
	// The second call panics; the sample after it comes from a new
	// incarnation.
	second := next(t, samples)
	if calls.Load() < 3 {
		t.Fatalf("second sample after %d parser calls, want the panicking second call before it", calls.Load())
	}
	if r := stats.Restarts.Load(); r != 1 {
		t.Errorf("restarts = %d, want 1", r)
	}
	if e := stats.Errors.Load(); e != 0 {
		t.Errorf("errors = %d; a panic is no sample error", e)
	}
	if !second.Time.After(first.Time) || stats.Latest() == first {
		t.Errorf("no new sample published after the restart: first %v, second %v", first.Time, second.Time)
	}
	res, err := system.Root.RequestFuture(pid, &messages.DumpState{}, wait).Result()
	if err != nil {
		t.Fatal(err)
	}
	if d := res.(*messages.StateDump); d.State["restarts"] != uint64(1) {
		t.Errorf("DumpState restarts = %v, want 1", d.State["restarts"])
	}
}

// TestActorCountsFailedSamples makes the netlink parser fail: the sample is
// dropped and counted, the previous one stays published, and sampling goes on.
func TestActorCountsFailedSamples(t *testing.T) {
	var calls atomic.Int32
	samples := make(chan *Sample, 16)
	stats := &Stats{}
	cfg := Config{
		Interval: 10 * time.Millisecond,
		Stats:    stats,
		OnSample: func(s *Sample) { samples <- s },
	}
	cfg.parse.netlink = func(b []byte) ([]NetlinkSocket, error) {
		if calls.Add(1) == 2 {
			return ParseNetlink(nil)
		}
		return ParseNetlink(b)
	}
	system := newSystem(t)
	t.Cleanup(system.Shutdown)
	pid := system.Root.Spawn(New(cfg))
	t.Cleanup(func() { system.Root.Stop(pid) })

	next(t, samples)
	next(t, samples)
	if e, n := stats.Errors.Load(), stats.Samples.Load(); e != 1 || n < 2 {
		t.Errorf("errors %d samples %d; want 1 error and the samples around it", e, n)
	}
	if r := stats.Restarts.Load(); r != 0 {
		t.Errorf("restarts = %d; an error is no panic", r)
	}
}
