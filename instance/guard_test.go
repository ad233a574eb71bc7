package instance

import (
	"errors"
	"os"
	"testing"

	"github.com/sonic-go/portsyncd/test/harness"
)

func TestName(t *testing.T) {
	dbs := []DB{{"APPL_DB", "a", 0}, {"CONFIG_DB", "a", 4}, {"STATE_DB", "a", 6}}
	base := Name(dbs)
	if len(base) > 107 {
		t.Fatalf("Name = %q: longer than an abstract name may be", base)
	}
	if Name(dbs) != base {
		t.Errorf("Name is not stable")
	}
	other := []DB{{"APPL_DB", "a", 0}, {"CONFIG_DB", "a", 4}, {"STATE_DB", "b", 6}}
	renumbered := []DB{{"APPL_DB", "a", 1}, {"CONFIG_DB", "a", 4}, {"STATE_DB", "a", 6}}
	for _, d := range [][]DB{other, renumbered} {
		if Name(d) == base {
			t.Errorf("Name(%v) = Name(%v): another server or database number must give another name", d, dbs)
		}
	}
}

// The guard on real abstract sockets: held in one network namespace, it
// refuses a second taker there with the holder's pid (read with
// SO_PEERCRED), does not exist in another namespace, and is free again once
// closed.
func TestTake(t *testing.T) {
	harness.RequireRoot(t)
	ns1, ns2 := harness.NewNetns(t), harness.NewNetns(t)
	const name = "portsyncd/test-guard"
	holderIn := func(ns *harness.Netns) (held bool, pid int) {
		t.Helper()
		if err := ns.Run(func() (err error) { held, pid, err = Holder(name); return err }); err != nil {
			t.Fatalf("Holder: %v", err)
		}
		return held, pid
	}
	if held, pid := holderIn(ns1); held || pid != 0 {
		t.Fatalf("Holder before Take: held %v, pid %d; want free", held, pid)
	}
	var g *Guard
	if err := ns1.Run(func() (err error) { g, err = Take(name); return err }); err != nil {
		t.Fatal(err)
	}
	err := ns1.Run(func() error { _, err := Take(name); return err })
	var held *HeldError
	if !errors.Is(err, ErrHeld) || !errors.As(err, &held) || held.PID != os.Getpid() {
		t.Fatalf("second Take in the namespace: %v; want ErrHeld naming pid %d", err, os.Getpid())
	}
	if held, pid := holderIn(ns1); !held || pid != os.Getpid() {
		t.Errorf("Holder while held: held %v, pid %d; want held by %d", held, pid, os.Getpid())
	}
	if held, _ := holderIn(ns2); held {
		t.Errorf("Holder in another namespace: held")
	}
	// The accept loop keeps the backlog empty: many askers never block.
	for range 300 {
		if err := ns1.Run(func() error { _, err := Take(name); return err }); !errors.Is(err, ErrHeld) {
			t.Fatalf("asking again: %v", err)
		}
	}
	var g2 *Guard
	if err := ns2.Run(func() (err error) { g2, err = Take(name); return err }); err != nil {
		t.Fatalf("Take in another namespace: %v", err)
	}
	g2.Close()
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if held, _ := holderIn(ns1); held {
		t.Errorf("Holder after Close: held")
	}
	if err := ns1.Run(func() (err error) { g, err = Take(name); return err }); err != nil {
		t.Fatalf("Take after Close: %v", err)
	}
	g.Close()
}

// TakeIn binds the guard inside the given namespace, from outside it: a
// taker inside that namespace is refused, one in the caller's is not.
func TestTakeIn(t *testing.T) {
	harness.RequireRoot(t)
	ns := harness.NewNetns(t)
	f, err := os.Open("/run/netns/" + ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const name = "portsyncd/test-guard-in"
	g, err := TakeIn(name, int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := ns.Run(func() error { _, err := Take(name); return err }); !errors.Is(err, ErrHeld) {
		t.Errorf("Take inside %s: %v, want ErrHeld", ns.Name, err)
	}
	here, err := Take(name)
	if err != nil {
		t.Fatalf("Take in the caller's namespace: %v", err)
	}
	here.Close()
}
