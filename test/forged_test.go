package test

import (
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/test/harness"
)

// forgedLink encodes an RTM_NEWLINK or RTM_DELLINK for a port, up with
// carrier, as the kernel would send it, but for a user-space sender to send.
func forgedLink(t *testing.T, typ netlink.HeaderType, index uint32, name string, mtu uint32) []byte {
	t.Helper()
	body, err := (&rtnetlink.LinkMessage{Index: index, Flags: unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_LOWER_UP,
		Attributes: &rtnetlink.LinkAttributes{Name: name, MTU: mtu}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// No NLM_F_REQUEST: were it to reach the kernel, the kernel would ignore it.
	b, err := (&netlink.Message{Header: netlink.Header{Length: uint32(16 + len(body)), Type: typ}, Data: body}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Issue 7, only the kernel feeds state: a process in the daemon's namespace
// sends a forged RTM_NEWLINK (MTU 4242) and a forged RTM_DELLINK for a
// configured port to every netlink socket of the daemon. STATE_DB does not
// change, the daemon counts and logs the forgeries, and a dump (SIGHUP)
// drops the ones queued on the dump socket too.
func TestIntegrationForgedNetlinkIgnored(t *testing.T) {
	e := startWithPorts(t, "Ethernet0", "Ethernet4")
	before := e.portState("Ethernet0")
	index := uint32(e.ns.Link(t, "Ethernet0").Ifindex)
	forger := harness.NewForger(t, e.ns)
	ids := harness.NetlinkPortIDs(t, e.daemon.Cmd.Process.Pid)
	if len(ids) < 2 {
		t.Fatalf("daemon has netlink port ids %v, want its listen and dump sockets", ids)
	}
	t.Logf("daemon's netlink port ids %v, forger %d", ids, forger.PortID)
	for _, id := range ids {
		forger.Send(t, id, forgedLink(t, unix.RTM_NEWLINK, index, "Ethernet0", 4242))
		forger.Send(t, id, forgedLink(t, unix.RTM_DELLINK, index, "Ethernet0", 4242))
	}
	// A real change queued after the forged datagrams: once it is in
	// STATE_DB, the daemon has read past them.
	e.settle("Ethernet4", 9000)
	if diff := cmp.Diff(before, e.portState("Ethernet0")); diff != "" {
		t.Errorf("STATE_DB PORT_TABLE|Ethernet0 changed by forged messages (-before +after):\n%s\n%s", diff, e.log())
	}
	if n := e.counter(t, "forged"); n < 2 {
		t.Errorf("forged counter %d after 2 forged datagrams on the listen socket", n)
	}
	if !containsAll(e.log(), `msg="netlink datagram not from the kernel dropped"`, "sender_pid=") {
		t.Errorf("no warning naming the sender:\n%s", e.log())
	}

	// The forgeries on the dump socket are read by the next dump.
	onListen := e.counter(t, "forged")
	dumps := e.countLog(`msg="links dumped"`)
	e.daemon.Signal(t, syscall.SIGHUP)
	harness.Eventually(t, waitFor, func() bool { return e.countLog(`msg="links dumped"`) > dumps },
		func() string { return "no dump after SIGHUP:\n" + e.log() })
	if n := e.counter(t, "forged"); n < onListen+2 {
		t.Errorf("forged counter %d after a dump, %d before; want 2 more from the dump socket", n, onListen)
	}
	e.settle("Ethernet4", 9100)
	if diff := cmp.Diff(before, e.portState("Ethernet0")); diff != "" {
		t.Errorf("STATE_DB PORT_TABLE|Ethernet0 changed after the dump (-before +after):\n%s", diff)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
