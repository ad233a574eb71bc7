package harness

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// DialContext dials addr from inside the namespace: the socket is made on a
// thread that entered the namespace, so a loopback address is the
// namespace's own loopback. The connection stays in the namespace.
func (n *Netns) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread is given back only once it is in its own namespace
		// again; otherwise it dies with this goroutine.
		runtime.LockOSThread()
		c, err, restored := n.dialLocked(ctx, network, addr)
		if restored {
			runtime.UnlockOSThread()
		}
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

func (n *Netns) dialLocked(ctx context.Context, network, addr string) (net.Conn, error, bool) {
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, fmt.Errorf("harness: own netns: %w", err), true
	}
	defer self.Close()
	target, err := os.Open("/var/run/netns/" + n.Name)
	if err != nil {
		return nil, fmt.Errorf("harness: netns %s: %w", n.Name, err), true
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("harness: enter netns %s: %w", n.Name, err), true
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	restored := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil
	return c, err, restored
}

// HTTPClient returns a client whose connections are made inside the
// namespace.
func (n *Netns) HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: n.DialContext, DisableKeepAlives: true}}
}

// Listen listens on addr inside the namespace, as DialContext dials: the
// socket is made on a thread that entered the namespace and went back, so
// no thread dies for it (a thread's death sends Pdeathsig to the processes
// it started, redis-server among them). The listener stays in the
// namespace.
func (n *Netns) Listen(network, addr string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		var l net.Listener
		err, restored := n.inside(func() error {
			var err error
			l, err = net.Listen(network, addr)
			return err
		})
		if restored {
			runtime.UnlockOSThread()
		}
		ch <- result{l, err}
	}()
	r := <-ch
	return r.l, r.err
}

// inside runs fn on the calling, locked thread after entering the
// namespace, and enters the thread's own namespace again; it reports
// whether that worked (if not, the thread must die locked).
func (n *Netns) inside(fn func() error) (error, bool) {
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return fmt.Errorf("harness: own netns: %w", err), true
	}
	defer self.Close()
	target, err := os.Open("/var/run/netns/" + n.Name)
	if err != nil {
		return fmt.Errorf("harness: netns %s: %w", n.Name, err), true
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("harness: enter netns %s: %w", n.Name, err), true
	}
	err = fn()
	return err, unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil
}
