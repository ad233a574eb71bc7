package e2ebench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/test/harness"
)

// world is one daemon with its Redis, namespaces and ports.
type world struct {
	t           *testing.T
	redis       *harness.Redis
	ns, peers   *harness.Netns
	appl, state *redis.Client
	daemon      *harness.Daemon
	ports       []string
	index       map[string]uint32 // port name -> ifindex
	mtu         map[string]uint32 // port name -> the MTU last set
}

func portName(i int) string { return fmt.Sprintf("Ethernet%d", 4*i) }

// newWorld starts Redis (keyspace events on), orchagent and the daemon, then
// creates n ports (after the daemon is ready, or they would be old
// interfaces) and waits for PortInitDone. It returns the time from the last
// port's creation to PortInitDone being published.
func newWorld(t *testing.T, n int, args ...string) (*world, time.Duration) {
	t.Helper()
	w := &world{t: t, redis: harness.StartRedis(t), index: make(map[string]uint32), mtu: make(map[string]uint32)}
	w.ns, w.peers = harness.NewNetns(t), harness.NewNetns(t)
	w.appl, w.state = w.redis.Client(t, 0), w.redis.Client(t, 6)
	ctx := context.Background()
	if err := w.appl.ConfigSet(ctx, "notify-keyspace-events", "Kh").Err(); err != nil {
		t.Fatal(err)
	}
	config := w.redis.Client(t, 4)
	pipe := config.Pipeline()
	for i := 0; i < n; i++ {
		w.ports = append(w.ports, portName(i))
		pipe.HSet(ctx, "PORT|"+portName(i), "lanes", fmt.Sprint(i), "mtu", "9100", "admin_status", "up")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	w.daemon = harness.StartDaemon(t, w.ns, append([]string{"--db-config", w.redis.WriteDBConfig(t)}, args...)...)
	w.daemon.WaitLog(t, "msg=ready", 30*time.Second)
	// Started earlier, orchagent could consume the entries before start-up
	// step 5 looks, and nothing would be pending: PortInitDone at once.
	harness.NewOrchagent(t, w.appl).Run(t)
	harness.Eventually(t, time.Minute, func() bool { return w.appl.SCard(ctx, "PORT_TABLE_KEY_SET").Val() == 0 },
		func() string { return "orchagent did not consume every port" })

	initDone := w.appl.Subscribe(ctx, "__keyspace@0__:_PORT_TABLE:PortInitDone")
	defer initDone.Close()
	if _, err := initDone.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	var ports, peers []string
	for i, p := range w.ports {
		ports = append(ports, fmt.Sprintf("link add %s type veth peer name pp%d netns %s", p, i, w.peers.Name),
			fmt.Sprintf("link set %s up", p))
		peers = append(peers, fmt.Sprintf("link set pp%d up", i))
	}
	if len(ports) > 2 {
		batch(t, w.ns, ports[:len(ports)-2])
	}
	// The clock starts before the last port's ip(8) runs: the daemon can
	// be done before ip(8) has exited. It includes ip(8)'s start-up.
	created := time.Now()
	batch(t, w.ns, ports[len(ports)-2:])
	select {
	case <-initDone.Channel():
	case <-time.After(2 * time.Minute):
		t.Fatalf("no PortInitDone:\n%s", tail(w.daemon.Log()))
	}
	toInitDone := time.Since(created)
	batch(t, w.peers, peers)
	for name, l := range w.ns.Links(t) {
		w.index[name] = uint32(l.Ifindex)
		w.mtu[name] = uint32(l.MTU)
	}
	return w, toInitDone
}

// batch runs iproute2 commands, one per line, in ns.
func batch(t *testing.T, ns *harness.Netns, lines []string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "-batch", f)
}

// dial opens an rtnetlink socket inside the port namespace; with listen it
// joins RTNLGRP_LINK.
func (w *world) dial(listen bool) *netlink.Conn {
	w.t.Helper()
	f, err := os.Open("/run/netns/" + w.ns.Name)
	if err != nil {
		w.t.Fatal(err)
	}
	defer f.Close()
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: int(f.Fd())})
	if err != nil {
		w.t.Fatal(err)
	}
	if listen {
		if err := c.JoinGroup(unix.RTNLGRP_LINK); err != nil {
			w.t.Fatal(err)
		}
	}
	w.t.Cleanup(func() { c.Close() })
	return c
}

// toggle changes a port's MTU between 9000 and 9001, so that every call is
// a change, and returns the new MTU.
func (w *world) toggle(c *netlink.Conn, name string) uint32 {
	w.t.Helper()
	mtu := uint32(9000)
	if w.mtu[name] == 9000 {
		mtu = 9001
	}
	if err := setMTU(c, w.index[name], mtu); err != nil {
		w.t.Fatal(err)
	}
	w.mtu[name] = mtu
	return mtu
}

// setMTU sends RTM_SETLINK for ifindex and waits for the kernel's ack.
func setMTU(c *netlink.Conn, index, mtu uint32) error {
	m := rtnetlink.LinkMessage{Index: index, Attributes: &rtnetlink.LinkAttributes{MTU: mtu}}
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = c.Execute(netlink.Message{
		Header: netlink.Header{Type: 19 /* RTM_SETLINK */, Flags: netlink.Request | netlink.Acknowledge},
		Data:   b,
	})
	return err
}

// converged waits until STATE_DB equals the kernel for every port.
func (w *world) converged() {
	w.t.Helper()
	var diff string
	harness.Eventually(w.t, 2*time.Minute, func() bool {
		diff = harness.StateDiff(w.t, w.ns, w.state, w.ports)
		return diff == ""
	}, func() string { return "not converged:\n" + diff })
}

// procStat returns the daemon's CPU time (utime+stime) and its peak and
// current resident memory in bytes.
func (w *world) procStat() (cpu time.Duration, hwm, rss int64) {
	pid := w.daemon.Cmd.Process.Pid
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		w.t.Fatal(err)
	}
	// Fields after the command name, which may hold spaces: state is 3rd.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	cpu = time.Duration(ut+st) * 10 * time.Millisecond // CLK_TCK is 100
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(status), "\n") {
		var kb int64
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(v, "kB")), &kb)
			hwm = kb << 10
		}
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(v, "kB")), &kb)
			rss = kb << 10
		}
	}
	return cpu, hwm, rss
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-40):], "\n")
}
