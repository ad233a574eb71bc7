package netlinkrx

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jsimonetti/rtnetlink/v2"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/messages"
)

// netnsWorld is a fresh network namespace, holding only lo, with portsyncd's
// sockets, a forger (a user-space netlink socket) and an rtnetlink client to
// make real changes, all opened inside it.
type netnsWorld struct {
	socks     *Sockets
	forger    int
	forgerPID uint32
	rt        *rtnetlink.Conn
}

// newNetnsWorld opens the sockets on an OS thread moved into a new network
// namespace. Sockets stay in the namespace they were opened in; the thread
// is never unlocked, so it ends with its goroutine and no other goroutine
// runs in the namespace. The namespace goes away with its last socket,
// closed on cleanup.
func newNetnsWorld(t *testing.T) *netnsWorld {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	w := &netnsWorld{forger: -1}
	t.Cleanup(func() {
		if w.socks != nil {
			w.socks.Close()
		}
		if w.forger >= 0 {
			unix.Close(w.forger)
		}
		if w.rt != nil {
			w.rt.Close()
		}
	})
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		done <- w.open()
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *netnsWorld) open() error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare network namespace: %w", err)
	}
	var err error
	if w.socks, err = Open(0); err != nil {
		return err
	}
	if w.rt, err = rtnetlink.Dial(nil); err != nil {
		return err
	}
	if w.forger, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE); err != nil {
		return fmt.Errorf("forger socket: %w", err)
	}
	if err := unix.Bind(w.forger, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("bind forger: %w", err)
	}
	sa, err := unix.Getsockname(w.forger)
	if err != nil {
		return fmt.Errorf("forger address: %w", err)
	}
	w.forgerPID = sa.(*unix.SockaddrNetlink).Pid
	return nil
}

// forge sends b from the forger to the netlink port id pid, or to the
// multicast groups if pid is 0.
func (w *netnsWorld) forge(t *testing.T, b []byte, pid, groups uint32) {
	t.Helper()
	if err := unix.Sendto(w.forger, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: pid, Groups: groups}); err != nil {
		t.Fatalf("forging to port id %d groups %#x: %v", pid, groups, err)
	}
}

// setLo sets lo's admin state: a real change, announced by the kernel.
func (w *netnsWorld) setLo(t *testing.T, up bool) {
	t.Helper()
	var flags uint32
	if up {
		flags = unix.IFF_UP
	}
	if err := w.rt.Link.Set(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Index: 1, Flags: flags, Change: unix.IFF_UP}); err != nil {
		t.Fatalf("set lo up=%v: %v", up, err)
	}
}

// readUntil reads batches from the listen socket until one holds an event
// cond accepts, and returns every event read. A read deadline makes a
// missing event fail the test instead of hanging it.
func (w *netnsWorld) readUntil(t *testing.T, cond func(messages.LinkEvent) bool) []messages.LinkEvent {
	t.Helper()
	w.socks.listen.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer w.socks.listen.SetReadDeadline(time.Time{})
	dec := NewDecoder()
	buf := make([]byte, 64<<10)
	var events []messages.LinkEvent
	for {
		found := false
		overrun, err := w.socks.ReadBatch(buf, maxQueuedReads, func() {}, func(typ uint16, data []byte) {
			ev, err := dec.Decode(typ, data)
			if err != nil {
				t.Errorf("decode type %d: %v", typ, err)
				return
			}
			events = append(events, ev)
			found = found || cond(ev)
		})
		if err != nil || overrun {
			t.Fatalf("ReadBatch: overrun %v, err %v; events so far %+v", overrun, err, events)
		}
		if found {
			return events
		}
	}
}

func linkMsg(t *testing.T, index uint32, name string, mtu uint32) []byte {
	return marshal(t, rtnetlink.LinkMessage{Index: index, Flags: unix.IFF_UP | unix.IFF_RUNNING,
		Attributes: &rtnetlink.LinkAttributes{Name: name, MTU: mtu}})
}

// Only the kernel feeds portsyncd: NEWLINK and DELLINK sent by a process to
// the listen socket's port id, or to the link group, are dropped and counted,
// and a real change queued after them still comes through.
func TestReadBatchDropsForged(t *testing.T) {
	w := newNetnsWorld(t)
	lpid := w.socks.listen.PID()
	w.forge(t, msg(rtmNewLink, 0, 0, 0, linkMsg(t, 1, "Ethernet0", 4242)), lpid, 0)
	w.forge(t, msg(rtmDelLink, 0, 0, 0, linkMsg(t, 1, "Ethernet0", 4242)), lpid, 0)
	w.forge(t, msg(rtmNewLink, 0, 0, 0, linkMsg(t, 1, "Ethernet4", 4242)), 0, 1<<(unix.RTNLGRP_LINK-1))
	w.setLo(t, true)

	events := w.readUntil(t, func(ev messages.LinkEvent) bool { return ev.Name == "lo" })
	for _, ev := range events {
		if ev.Name != "lo" || ev.MTU == 4242 {
			t.Errorf("forged event read: %+v", ev)
		}
	}
	n, from := w.socks.TakeForged()
	if n != 3 || from != w.forgerPID {
		t.Errorf("TakeForged() = %d, sender %d; want 3, sender %d", n, from, w.forgerPID)
	}
	if n, _ := w.socks.TakeForged(); n != 0 {
		t.Errorf("second TakeForged() = %d, want 0", n)
	}
}

// A dump takes only the kernel's replies: a forged reply carrying the
// request's sequence number and port id, and a forged NLMSG_DONE that would
// end the dump early, are dropped.
func TestDumpDropsForgedReplies(t *testing.T) {
	w := newNetnsWorld(t)
	dpid, seq := w.socks.dump.PID(), w.socks.dumpSeq+1
	w.forge(t, msg(rtmNewLink, 2, seq, dpid, linkMsg(t, 99, "Ethernet99", 4242)), dpid, 0)
	w.forge(t, msg(nlmsgDone, 2, seq, dpid, le32(0)), dpid, 0)

	events, err := w.socks.Dump(NewDecoder())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range events {
		names = append(names, ev.Name)
	}
	if diff := cmp.Diff([]string{"lo"}, names); diff != "" {
		t.Errorf("dumped links (-want +got):\n%s", diff)
	}
	if n, from := w.socks.TakeForged(); n != 2 || from != w.forgerPID {
		t.Errorf("TakeForged() = %d, sender %d; want 2, sender %d", n, from, w.forgerPID)
	}
	// The socket is left clean: the next dump answers its own request.
	if events, err := w.socks.Dump(NewDecoder()); err != nil || len(events) != 1 {
		t.Errorf("second dump: %d links, err %v; want lo alone", len(events), err)
	}
}

// One ReadBatch takes what is queued, up to max datagrams, without waiting
// for more.
func TestReadBatchTakesQueued(t *testing.T) {
	w := newNetnsWorld(t)
	for _, up := range []bool{true, false, true, false} {
		w.setLo(t, up)
	}
	buf := make([]byte, 64<<10)
	count := func(max int) int {
		n := 0
		if _, err := w.socks.ReadBatch(buf, max, func() {}, func(uint16, []byte) { n++ }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(1); n != 1 {
		t.Errorf("ReadBatch(max 1) handed out %d messages, want the one datagram's", n)
	}
	if n := count(maxQueuedReads); n < 3 {
		t.Errorf("ReadBatch(max %d) handed out %d messages, want the other 3 or more", maxQueuedReads, n)
	}
}

// A read deadline wakes a ReadBatch parked with nothing to read: that is
// how the reader is stopped and asked to resynchronise.
func TestReadBatchDeadlineWakes(t *testing.T) {
	w := newNetnsWorld(t)
	res := make(chan error, 1)
	go func() {
		_, err := w.socks.ReadBatch(make([]byte, 4096), 1, func() {}, func(uint16, []byte) {})
		res <- err
	}()
	w.socks.listen.SetReadDeadline(time.Now())
	select {
	case err := <-res:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("ReadBatch error %v, want os.ErrDeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadBatch still parked 10s after its deadline")
	}
}
