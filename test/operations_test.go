package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sonic-go/portsyncd/test/harness"
)

// notifySocket is a systemd notify socket the test binds: it keeps every
// datagram the daemon sends.
type notifySocket struct {
	mu   sync.Mutex
	msgs []string
	at   []time.Time // when each came
}

func bindNotify(t *testing.T) (*notifySocket, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("bind notify socket: %v", err)
	}
	n := &notifySocket{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.at = append(n.at, time.Now())
			n.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return n, path
}

func (n *notifySocket) count(msg string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, m := range n.msgs {
		for _, line := range strings.Split(m, "\n") {
			if line == msg {
				c++
			}
		}
	}
	return c
}

// datagrams returns every datagram received so far.
func (n *notifySocket) datagrams() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.msgs)
}

// last returns when msg last came, and whether it came.
func (n *notifySocket) last(msg string) (time.Time, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := len(n.msgs) - 1; i >= 0; i-- {
		if slices.Contains(strings.Split(n.msgs[i], "\n"), msg) {
			return n.at[i], true
		}
	}
	return time.Time{}, false
}

// scrape returns every sample of /metrics, "name{labels}" -> value.
func scrape(t *testing.T, c *http.Client) map[string]float64 {
	t.Helper()
	resp, err := c.Get("http://127.0.0.1:9123/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func get(t *testing.T, c *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := c.Get("http://127.0.0.1:9123" + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Issue 8: a running daemon tells systemd it is ready and keeps its
// watchdog fed, serves metrics that move with the link events, answers
// /healthz, /readyz (listing what PortInitDone waits for) and
// /debug/actors, and says STOPPING on SIGTERM.
func TestIntegrationOperations(t *testing.T) {
	notify, path := bindNotify(t)
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "400000")
	e := newEnv(t)
	e.configure("Ethernet0", "Ethernet4")
	e.orch.Run(t)
	e.start()
	c := e.ns.HTTPClient()

	harness.Eventually(t, waitFor, func() bool { return notify.count("READY=1") == 1 },
		func() string { return fmt.Sprintf("no READY=1; got %q", notify.msgs) })
	harness.Eventually(t, waitFor, func() bool { return notify.count("WATCHDOG=1") >= 2 },
		func() string { return "no watchdog pings" })
	// Issue 16: READY=1 carries the first ping, and STATUS= says what the
	// daemon waits for.
	if !slices.Contains(notify.datagrams(), "READY=1\nWATCHDOG=1") {
		t.Errorf("READY=1 without the first WATCHDOG=1 in its datagram: %q", notify.datagrams())
	}
	harness.Eventually(t, waitFor, func() bool {
		return notify.count("STATUS=syncing: 2 configured ports pending, PortInitDone not sent") == 1
	}, func() string { return fmt.Sprintf("no STATUS= naming the pending ports: %q", notify.datagrams()) })

	// Ethernet4 has no netdev yet: not ready, and it says why.
	e.ns.AddPort(t, "Ethernet0", e.peers)
	e.waitState("Ethernet0", want("up", "up", 1500))
	code, body := get(t, c, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "Ethernet4") {
		t.Errorf("/readyz with Ethernet4 pending = %d %s, want 503 naming Ethernet4", code, body)
	}
	before := scrape(t, c)
	e.ns.SetMTU(t, "Ethernet0", 9000)
	e.waitState("Ethernet0", want("up", "up", 9000))
	e.ns.AddPort(t, "Ethernet4", e.peers)
	e.waitState("Ethernet4", want("up", "up", 1500))
	harness.Eventually(t, waitFor, func() bool { code, _ := get(t, c, "/readyz"); return code == http.StatusOK },
		func() string { _, b := get(t, c, "/readyz"); return "/readyz never 200: " + b })
	// A scrape is served from a cache for up to a second: wait for one
	// made after the changes.
	var after map[string]float64
	moved := []string{
		`portsyncd_state_db_writes_total`,
		`portsyncd_event_latency_seconds_count`,
		`portsyncd_netlink_events_total{type="newlink"}`,
		`portsyncd_redis_round_trips_total`,
	}
	harness.Eventually(t, waitFor, func() bool {
		after = scrape(t, c)
		for _, name := range moved {
			if after[name] <= before[name] {
				return false
			}
		}
		return after["portsyncd_ports_pending"] == 0
	}, func() string { return fmt.Sprintf("metrics did not move: before %v after %v", before, after) })
	if after["portsyncd_port_init_done_sent"] != 1 || after["portsyncd_ports_pending"] != 0 {
		t.Errorf("init done %v pending %v, want 1 and 0", after["portsyncd_port_init_done_sent"], after["portsyncd_ports_pending"])
	}
	if after[`portsyncd_process_page_faults_total{kind="minor"}`] <= 0 {
		t.Errorf("no kstats figures in /metrics")
	}
	if after["process_resident_memory_bytes"] <= 0 || after["go_goroutines"] <= 0 {
		t.Errorf("no process or Go collector figures in /metrics")
	}
	// Healthy: every actor answered the watchdog lately (on a loaded
	// machine a round may be late; the next one counts).
	harness.Eventually(t, waitFor, func() bool { code, _ := get(t, c, "/healthz"); return code == http.StatusOK },
		func() string { code, body := get(t, c, "/healthz"); return fmt.Sprintf("/healthz = %d %s", code, body) })
	code, body = get(t, c, "/debug/actors")
	var actors map[string]map[string]any
	if err := json.Unmarshal([]byte(body), &actors); code != http.StatusOK || err != nil {
		t.Fatalf("/debug/actors = %d %v: %s", code, err, body)
	}
	for _, a := range []string{"netlinkrx", "portstate", "dbwriter", "kstats"} {
		if _, ok := actors[a]; !ok {
			t.Errorf("/debug/actors lacks %s: %s", a, body)
		}
	}

	e.daemon.Signal(t, syscall.SIGTERM)
	if code, err := e.daemon.Wait(waitFor); err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if !slices.ContainsFunc(notify.datagrams(), func(d string) bool {
		return strings.HasPrefix(d, "STATUS=ready: ") && strings.HasSuffix(d, " links, PortInitDone sent")
	}) {
		t.Errorf("no STATUS= saying ready: %q", notify.datagrams())
	}
	if notify.count("STOPPING=1") != 1 {
		t.Errorf("no STOPPING=1 on SIGTERM: %q", notify.msgs)
	}
}

// Issue 8: systemd's watchdog is fed only while every actor answers.
// Issue 15: the heartbeats follow WATCHDOG_USEC (a quarter of it), so a
// wedged actor stops the pings and ends the process within the interval:
// systemd never sees a wedged daemon still pinging.
func TestIntegrationSystemdWatchdogStopsWhenWedged(t *testing.T) {
	const interval = 400 * time.Millisecond
	notify, path := bindNotify(t)
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", fmt.Sprint(interval.Microseconds())) // a ping every 200 ms while healthy
	e := newEnv(t)
	inject := e.startFaulty(t)
	harness.Eventually(t, waitFor, func() bool { return notify.count("WATCHDOG=1") >= 5 },
		func() string { return "no watchdog pings while healthy" })
	wedged := time.Now()
	inject("wedge:kstats")
	code, err := e.daemon.Wait(20 * time.Second)
	if err != nil || code == 0 {
		t.Fatalf("wedged daemon: exit %d, %v\n%s", code, err, e.log())
	}
	if took := time.Since(wedged); took > 5*time.Second {
		t.Errorf("exited %v after the wedge, want within a few watchdog intervals (%v)", took, interval)
	}
	if last, _ := notify.last("WATCHDOG=1"); last.After(wedged.Add(interval)) {
		t.Errorf("a ping %v after the wedge: a wedged actor must stop them", last.Sub(wedged))
	}
}

// Issue 8: metrics help operators but are no reason to leave ports
// unwritten: an address the daemon cannot listen on is logged at ERROR and
// the daemon runs on.
func TestIntegrationMetricsAddressUnusable(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0")
	e.orch.Run(t)
	e.start("--metrics-addr", "192.0.2.1:9123") // TEST-NET-1: no such address here
	e.daemon.WaitLog(t, `msg="metrics not served"`, waitFor)
	e.ns.AddPort(t, "Ethernet0", e.peers)
	e.waitState("Ethernet0", want("up", "up", 1500))
}
