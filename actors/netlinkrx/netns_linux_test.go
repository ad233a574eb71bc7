package netlinkrx

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/test/harness"
)

// Sockets opened with InNetns see the named namespace's links, not the
// caller's, and SetAdminDown with it takes a link down there; the test
// process never leaves its own namespace.
func TestInNetns(t *testing.T) {
	harness.RequireRoot(t)
	ns, peers := harness.NewNetns(t), harness.NewNetns(t)
	f, err := os.Open("/run/netns/" + ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idx := ns.AddPort(t, "Ethernet0", peers)

	socks, err := Open(0, InNetns(int(f.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	defer socks.Close()
	dump, err := socks.Dump(NewDecoder())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range dump {
		names = append(names, ev.Name)
	}
	slices.Sort(names)
	if want := []string{"Ethernet0", "lo"}; !slices.Equal(names, want) {
		t.Fatalf("dump in %s = %v, want %v", ns.Name, names, want)
	}

	if err := SetAdminDown(uint32(idx), InNetns(int(f.Fd()))); err != nil {
		t.Fatal(err)
	}
	if ns.Link(t, "Ethernet0").AdminUp {
		t.Errorf("Ethernet0 still up in %s", ns.Name)
	}
	// The listen socket joined the namespace's link group: it hears the
	// change just made there.
	socks.listen.SetReadDeadline(time.Now().Add(10 * time.Second))
	dec, buf := NewDecoder(), make([]byte, 64<<10)
	for heard := false; !heard; {
		if _, err := socks.ReadBatch(buf, maxQueuedReads, func() {}, func(typ uint16, data []byte) {
			ev, err := dec.Decode(typ, data)
			heard = heard || (err == nil && ev.Name == "Ethernet0" && ev.Kind == messages.NewLink && !ev.AdminUp())
		}); err != nil {
			t.Fatalf("no NEWLINK for Ethernet0 in %s: %v", ns.Name, err)
		}
	}
}
