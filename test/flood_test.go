package test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sonic-go/portsyncd/test/harness"
)

// Issue 15: every input flooded at once (a link storm, observers asking for
// every actor's state and readiness, SIGUSR1 state dumps, keyspace events
// on APPL_DB PORT_TABLE, a fast watchdog) leaves every mailbox within its
// bound, loses nothing, and the daemon keeps answering.
func TestIntegrationMailboxesStayBounded(t *testing.T) {
	_, path := bindNotify(t)
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "400000") // heartbeats every 100 ms
	e := newEnv(t)
	e.notify("AKE")
	ports := []string{"Ethernet0", "Ethernet4", "Ethernet8", "Ethernet12"}
	e.configure(ports...)
	e.orch.Run(t)
	e.start()
	for _, p := range ports {
		e.ns.AddPort(t, p, e.peers)
	}
	for _, p := range ports {
		e.waitState(p, want("up", "up", 1500))
	}

	ctx, stop := context.WithTimeout(context.Background(), 3*time.Second)
	defer stop()
	var wg sync.WaitGroup
	flood := func(f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				f(i)
			}
		}()
	}
	for _, p := range ports {
		flood(func(i int) { _ = e.ns.TryIP("link", "set", p, "mtu", fmt.Sprint(2000+i%500)) })
	}
	c := e.ns.HTTPClient()
	for _, path := range []string{"/debug/actors", "/readyz", "/metrics", "/debug/actors", "/readyz"} {
		flood(func(int) {
			if resp, err := c.Get("http://127.0.0.1:9123" + path); err == nil {
				resp.Body.Close()
			}
		})
	}
	flood(func(int) {
		_ = e.daemon.Cmd.Process.Signal(syscall.SIGUSR1)
		time.Sleep(5 * time.Millisecond)
	})
	appl := e.redis.Client(t, 0)
	flood(func(i int) {
		pipe := appl.Pipeline()
		for j := range 100 {
			pipe.HSet(ctx, "PORT_TABLE:"+ports[j%len(ports)], "flood", i)
		}
		_, _ = pipe.Exec(ctx)
	})
	wg.Wait()

	// Nothing lost: the newest state of every port reaches STATE_DB.
	for i, p := range ports {
		e.ns.SetMTU(t, p, 9000+i)
	}
	for i, p := range ports {
		e.waitState(p, want("up", "up", 9000+i))
	}
	// Healthy: every actor answered the watchdog lately (on a loaded
	// machine a round may be late; the next one counts).
	harness.Eventually(t, waitFor, func() bool { code, _ := get(t, c, "/healthz"); return code == http.StatusOK },
		func() string { code, body := get(t, c, "/healthz"); return fmt.Sprintf("/healthz = %d %s", code, body) })
	doc := e.stateDump(t)
	boxes, _ := doc["mailboxes"].(map[string]any)
	for _, a := range []string{"netlinkrx", "portstate", "dbwriter", "kstats"} {
		mb, ok := boxes[a].(map[string]any)
		if !ok {
			t.Fatalf("state dump lacks %s's mailbox: %v", a, doc["mailboxes"])
		}
		peak, limit := mb["peak"].(float64), mb["limit"].(float64)
		t.Logf("%s: peak %v of %v, dropped %v", a, peak, limit, mb["dropped"])
		if peak > limit || limit <= 0 {
			t.Errorf("%s's mailbox peaked at %v, its bound is %v", a, peak, limit)
		}
	}
	if e.daemon.Exited() {
		t.Fatalf("daemon exited during the flood:\n%s", e.log())
	}
}
