package metrics

import (
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/actors/kstats"
)

// TestKstatsThroughScrape runs the real kstats actor as the Kstats source
// and checks that a scrape shows its newest sample, this process's own
// netlink socket included.
func TestKstatsThroughScrape(t *testing.T) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}

	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	defer system.Shutdown()
	stats := &kstats.Stats{}
	sampled := make(chan struct{}, 1)
	pid := system.Root.Spawn(kstats.New(kstats.Config{
		Interval: time.Hour, // the first sample is taken at start; no other is wanted
		Stats:    stats,
		RcvBuf:   func() int64 { return 212992 },
		OnSample: func(*kstats.Sample) { sampled <- struct{}{} },
	}))
	defer system.Root.Stop(pid)
	select {
	case <-sampled:
	case <-time.After(30 * time.Second):
		t.Fatal("no kstats sample")
	}
	s := stats.Latest()

	got := series(scrape(t, serve(t, New(Sources{Kstats: stats.Latest}), nil, nil, nil)))
	inode := strconv.FormatUint(st.Ino, 10)
	for k, want := range map[string]float64{
		"portsyncd_netlink_socket_drops_total{inode=" + inode + ",protocol=0}":  0,
		"portsyncd_netlink_socket_queued_bytes{inode=" + inode + ",protocol=0}": 0,
		"portsyncd_netlink_receive_buffer_bytes":                                212992,
		"portsyncd_process_page_faults_total{kind=minor}":                       float64(s.MinorFaults),
		"portsyncd_process_context_switches_total{kind=voluntary}":              float64(s.VoluntaryCtxtSwitches),
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", k, v, ok, want)
		}
	}
	if got["portsyncd_process_context_switches_total{kind=voluntary}"] < 1 || got["portsyncd_process_page_faults_total{kind=minor}"] < 1 {
		t.Errorf("voluntary context switches %v, minor faults %v: not this process's figures",
			got["portsyncd_process_context_switches_total{kind=voluntary}"], got["portsyncd_process_page_faults_total{kind=minor}"])
	}
}
