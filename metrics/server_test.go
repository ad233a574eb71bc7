package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// get fetches base+path and decodes its JSON body.
func get(t *testing.T, base, path string) (int, map[string]any) {
	t.Helper()
	resp, err := client.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if resp.StatusCode != http.StatusNotFound {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("GET %s: %v in %q", path, err, b)
		}
	}
	return resp.StatusCode, body
}

// clock is a settable time for Liveness.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestHealthz(t *testing.T) {
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	live := newLiveness(10*time.Second, clk.now, "netlinkrx", "portstate", "dbwriter")
	base := serve(t, New(Sources{}), live.Check, nil, nil)

	steps := []struct {
		name       string
		do         func()
		wantCode   int
		wantReason []string // substrings of the reason
	}{
		{name: "start-up counts as an answer", do: func() {}, wantCode: 200},
		{name: "within max age", do: func() { clk.add(10 * time.Second) }, wantCode: 200},
		{
			name:       "every actor late",
			do:         func() { clk.add(time.Millisecond) },
			wantCode:   503,
			wantReason: []string{"dbwriter (last answer 10.001s ago)", "netlinkrx", "portstate"},
		},
		{
			name: "one actor still late",
			do: func() {
				live.Answered("netlinkrx")
				live.Answered("portstate")
			},
			wantCode:   503,
			wantReason: []string{"dbwriter"},
		},
		{name: "all answered", do: func() { live.Answered("dbwriter") }, wantCode: 200},
		{
			name:       "tree stopped",
			do:         func() { live.Stopped(errors.New("dbwriter: restarts exceeded")) },
			wantCode:   503,
			wantReason: []string{"supervision tree stopped: dbwriter: restarts exceeded"},
		},
		{name: "stopped for good", do: func() { live.Answered("dbwriter") }, wantCode: 503, wantReason: []string{"stopped"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do()
			code, body := get(t, base, "/healthz")
			if code != s.wantCode {
				t.Fatalf("code %d body %v, want %d", code, body, s.wantCode)
			}
			if code == 200 {
				if body["status"] != "ok" {
					t.Errorf("body %v, want status ok", body)
				}
				return
			}
			reason, _ := body["reason"].(string)
			if body["status"] != "unhealthy" {
				t.Errorf("body %v, want status unhealthy", body)
			}
			for _, w := range s.wantReason {
				if !strings.Contains(reason, w) {
					t.Errorf("reason %q lacks %q", reason, w)
				}
			}
			if len(s.wantReason) == 1 && s.wantReason[0] == "dbwriter" && strings.Contains(reason, "netlinkrx") {
				t.Errorf("reason %q names an actor that answered", reason)
			}
		})
	}
}

func TestReadyz(t *testing.T) {
	var mu sync.Mutex
	var rd Readiness
	base := serve(t, New(Sources{}), nil, func(context.Context) Readiness { mu.Lock(); defer mu.Unlock(); return rd }, nil)

	tests := []struct {
		name     string
		rd       Readiness
		wantCode int
		wantBody map[string]any
	}{
		{
			name:     "starting",
			rd:       Readiness{PendingPorts: []string{"Ethernet0", "Ethernet4"}},
			wantCode: 503,
			wantBody: map[string]any{"status": "not_ready", "initial_sync": false, "redis_connected": false,
				"port_init_done": false, "pending_ports": []any{"Ethernet0", "Ethernet4"}},
		},
		{
			name:     "synced, ports pending",
			rd:       Readiness{InitialSync: true, RedisConnected: true, PendingPorts: []string{"Ethernet4"}},
			wantCode: 503,
			wantBody: map[string]any{"status": "not_ready", "initial_sync": true, "redis_connected": true,
				"port_init_done": false, "pending_ports": []any{"Ethernet4"}},
		},
		{
			name:     "ready",
			rd:       Readiness{InitialSync: true, RedisConnected: true, PortInitDone: true},
			wantCode: 200,
			wantBody: map[string]any{"status": "ready", "initial_sync": true, "redis_connected": true, "port_init_done": true},
		},
		{
			name:     "redis lost after PortInitDone",
			rd:       Readiness{InitialSync: true, PortInitDone: true},
			wantCode: 503,
			wantBody: map[string]any{"status": "not_ready", "initial_sync": true, "redis_connected": false, "port_init_done": true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			rd = tt.rd
			mu.Unlock()
			code, body := get(t, base, "/readyz")
			if code != tt.wantCode {
				t.Errorf("code %d, want %d", code, tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantBody, body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDebugActors(t *testing.T) {
	type dump struct {
		Actor string         `json:"actor"`
		State map[string]any `json:"state"`
	}
	var fail atomic.Bool
	base := serve(t, New(Sources{}), nil, nil, func(ctx context.Context) (any, error) {
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("no deadline on the dump's context")
		}
		if fail.Load() {
			return nil, errors.New("dbwriter did not answer")
		}
		return map[string]dump{"dbwriter": {Actor: "dbwriter", State: map[string]any{"pending": 3}}}, nil
	})
	code, body := get(t, base, "/debug/actors")
	want := map[string]any{"dbwriter": map[string]any{"actor": "dbwriter", "state": map[string]any{"pending": float64(3)}}}
	if code != 200 {
		t.Errorf("code %d body %v", code, body)
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	fail.Store(true)
	if code, body := get(t, base, "/debug/actors"); code != 503 || body["error"] != "dbwriter did not answer" {
		t.Errorf("failing dump: code %d body %v, want 503 and the error", code, body)
	}

	noDump := serve(t, New(Sources{}), nil, nil, nil)
	if code, _ := get(t, noDump, "/debug/actors"); code != 404 {
		t.Errorf("no dump func: code %d, want 404", code)
	}
}

// TestServeStopsWithContext: Serve returns nil once its context ends, and
// the port no longer accepts connections.
func TestServeStopsWithContext(t *testing.T) {
	srv, err := Listen("127.0.0.1:0", New(Sources{}).Registry(),
		func(context.Context) error { return nil }, func(context.Context) Readiness { return Readiness{} }, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	if code, _ := get(t, base, "/healthz"); code != 200 {
		t.Fatalf("healthz %d before shutdown", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if resp, err := client.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("GET after shutdown answered %s", resp.Status)
	}
}

func TestListenErrors(t *testing.T) {
	reg := New(Sources{}).Registry()
	ok := func(context.Context) error { return nil }
	ready := func(context.Context) Readiness { return Readiness{} }
	if _, err := Listen("127.0.0.1:0", reg, nil, ready, nil); err == nil {
		t.Error("Listen without a HealthFunc: no error")
	}
	if _, err := Listen("127.0.0.1:0", reg, ok, nil, nil); err == nil {
		t.Error("Listen without a ReadyFunc: no error")
	}
	srv, err := Listen("127.0.0.1:0", reg, ok, ready, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.ln.Close()
	if _, err := Listen(srv.Addr().String(), reg, ok, ready, nil); err == nil {
		t.Error("Listen on a port in use: no error")
	}
}

// TestPprof: /debug/pprof/ is served only WithPprof(true); through Listen,
// a CPU profile comes back as pprof's gzipped protobuf.
func TestPprof(t *testing.T) {
	reg := New(Sources{}).Registry()
	ok := func(context.Context) error { return nil }
	ready := func(context.Context) Readiness { return Readiness{} }
	for _, tt := range []struct {
		name string
		opts []Option
		want int
	}{
		{"default", nil, http.StatusNotFound},
		{"off", []Option{WithPprof(false)}, http.StatusNotFound},
		{"on", []Option{WithPprof(true)}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := Handler(reg, ok, ready, nil, tt.opts...)
			for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=1"} {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				if rec.Code != tt.want {
					t.Errorf("GET %s: %d, want %d", path, rec.Code, tt.want)
				}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if got, want := strings.Contains(rec.Body.String(), "/debug/pprof/"), tt.want == http.StatusOK; got != want {
				t.Errorf("GET / lists /debug/pprof/: %v, want %v (%q)", got, want, rec.Body.String())
			}
		})
	}

	srv, err := Listen("127.0.0.1:0", reg, ok, ready, nil, WithPprof(true))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	resp, err := client.Get("http://" + srv.Addr().String() + "/debug/pprof/profile?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("CPU profile: %s, %d bytes starting %q; want 200 and a gzip stream", resp.Status, len(b), b[:min(len(b), 16)])
	}
}
