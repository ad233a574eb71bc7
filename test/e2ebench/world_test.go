package e2ebench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/test/harness"
)

// world is one Redis, the port namespace with its ports, and the subjects
// that mirror them into STATE_DB.
type world struct {
	t                     *testing.T
	redis                 *harness.Redis
	ns, peers             *harness.Netns
	appl, state           *redis.Client
	gen                   *netlink.Conn // the generator's socket
	ours, original, relay *subject      // nil when not run
	subjects              []*subject
	ports                 []string
	index                 map[string]uint32 // port name -> ifindex
	mtu                   map[string]uint32 // port name -> the MTU last set
	marker                uint32            // the last marker MTU used
	dumpAllocs            int               // heap allocations a SIGUSR1 dump itself costs portsyncd
	dumpDir               string            // portsyncd's --dump-dir
}

// worldOpts says which subjects a world runs.
type worldOpts struct {
	ours     bool
	args     []string // portsyncd's flags, after --db-config
	original string   // the original's directory; "" to leave it out
	relay    bool
}

func portName(i int) string { return fmt.Sprintf("Ethernet%d", 4*i) }

// newWorld starts Redis (keyspace events on), the daemons and orchagent,
// then creates n ports (after the daemons are ready, or they would be old
// interfaces) and waits for PortInitDone, then starts the relay. It returns
// the time from the last port's creation to PortInitDone being published
// (by either daemon, when both run).
func newWorld(t *testing.T, n int, o worldOpts) (*world, time.Duration) {
	t.Helper()
	w := &world{t: t, redis: harness.StartRedis(t), index: make(map[string]uint32), mtu: make(map[string]uint32), marker: 8000, dumpDir: t.TempDir()}
	w.ns, w.peers = harness.NewNetns(t), harness.NewNetns(t)
	w.appl, w.state = w.redis.Client(t, 0), w.redis.Client(t, 6)
	ctx := context.Background()
	// SONiC's Redis setting: the subscriber needs hash events; portsyncd
	// follows APPL_DB PORT_TABLE by them rather than checking before writes.
	if err := w.appl.ConfigSet(ctx, "notify-keyspace-events", "AKE").Err(); err != nil {
		t.Fatal(err)
	}
	config := w.redis.Client(t, 4)
	pipe := config.Pipeline()
	for i := 0; i < n; i++ {
		w.ports = append(w.ports, portName(i))
		pipe.HSet(ctx, "PORT|"+portName(i), "lanes", fmt.Sprint(i), "mtu", "9100", "admin_status", "up")
	}
	if *logLevel != "" {
		pipe.HSet(ctx, "LOGGER|portsyncd", "LOGLEVEL", *logLevel)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if o.ours {
		d := harness.StartDaemon(t, w.ns, append([]string{"--db-config", w.redis.WriteDBConfig(t), "--dump-dir", w.dumpDir}, o.args...)...)
		// Ready once dbwriter has staged PortConfigDone (no log line: the
		// level may hide them).
		harness.Eventually(t, 30*time.Second, func() bool {
			return w.appl.Exists(ctx, "_PORT_TABLE:PortConfigDone", "PORT_TABLE:PortConfigDone").Val() > 0
		}, func() string { return "portsyncd never published PortConfigDone:\n" + d.Log() })
		w.ours = &subject{name: "portsyncd", proc: d, w: w, ours: true}
	}
	if o.original != "" {
		w.original = startOriginal(w, o.original)
	}
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
		t.Fatalf("no PortInitDone")
	}
	toInitDone := time.Since(created)
	batch(t, w.peers, peers)
	for name, l := range w.ns.Links(t) {
		w.index[name] = uint32(l.Ifindex)
		w.mtu[name] = uint32(l.MTU)
	}
	w.gen = w.dial(false)
	if o.relay {
		w.relay = startRelay(w)
	}
	for _, s := range []*subject{w.ours, w.original, w.relay} {
		if s != nil {
			w.subjects = append(w.subjects, s)
		}
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

// activate continues s and stops every other subject, then sets every port
// to a new marker MTU and waits until STATE_DB shows it: s has caught up
// with whatever it had queued while stopped, and STATE_DB is right again
// even where another subject lost events.
func (w *world) activate(s *subject) {
	w.t.Helper()
	for _, o := range w.subjects {
		if o != s {
			o.signal(syscall.SIGSTOP)
		}
	}
	s.signal(syscall.SIGCONT)
	// First let it empty its socket: while that is full, the marker round
	// would be dropped by a subject that does not resynchronise.
	harness.Eventually(w.t, 2*time.Minute, func() bool { return s.sample().Queued == 0 },
		func() string { return s.name + ": socket never emptied" })
	if !w.waitMTUs(w.markerRound(), time.Minute) {
		p, err := sampleProc(s.pid())
		wchan, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", s.pid()))
		w.t.Fatalf("%s: STATE_DB never showed the marker MTUs (exited %v, %+v %v, wchan %s)\n%s", s.name, s.proc.Exited(), p, err, wchan,
			harness.StateDiff(w.t, w.ns, w.state, w.ports))
	}
}

// markerRound sets every port to an MTU no port had before and returns
// the final MTUs. Toggling 9000/9001 alone lets a port changed an even
// number of times look done before anything was read.
func (w *world) markerRound() map[string]uint32 {
	w.t.Helper()
	w.marker++
	final := make(map[string]uint32, len(w.ports))
	for _, name := range w.ports {
		if err := setMTU(w.gen, w.index[name], w.marker); err != nil {
			w.t.Fatal(err)
		}
		w.mtu[name], final[name] = w.marker, w.marker
	}
	return final
}

// waitMTUs waits up to timeout until STATE_DB shows each port's final MTU.
func (w *world) waitMTUs(final map[string]uint32, timeout time.Duration) bool {
	w.t.Helper()
	ctx := w.t.Context()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		pipe := w.state.Pipeline()
		cmds := make(map[string]interface{ Val() string })
		for name := range final {
			cmds[name] = pipe.HGet(ctx, "PORT_TABLE|"+name, "mtu")
		}
		pipe.Exec(ctx)
		ok := true
		for name, mtu := range final {
			if cmds[name].Val() != strconv.Itoa(int(mtu)) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
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
