package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultAddr is where the metrics server listens unless told otherwise:
// loopback only, since nothing it serves is meant for other hosts.
const DefaultAddr = "127.0.0.1:9123"

// HealthFunc reports whether the supervision tree is alive and every actor
// answered recently: nil if so, else an error saying what is wrong. See
// Liveness.
type HealthFunc func(ctx context.Context) error

// Readiness is what /readyz reports: portsyncd is ready once all three hold.
type Readiness struct {
	InitialSync    bool `json:"initial_sync"`    // the start-up dump reached STATE_DB
	RedisConnected bool `json:"redis_connected"` // the writer's Redis connections are up
	PortInitDone   bool `json:"port_init_done"`  // PortInitDone published
	// PendingPorts are the configured ports PortInitDone still waits for.
	PendingPorts []string `json:"pending_ports,omitempty"`
	// NeverAppear are those of PendingPorts that can never appear as a
	// followed link, with why: PortInitDone waits for them for good.
	NeverAppear map[string]string `json:"never_appear,omitempty"`
	// Down says why a namespace was given up (--namespace only); it is
	// then not ready.
	Down string `json:"down,omitempty"`
	// Namespaces are each namespace's readiness when the process serves
	// several (--namespace); the fields above then sum them up: each holds
	// only if it holds in every namespace.
	Namespaces map[string]Readiness `json:"namespaces,omitempty"`
}

// Ready reports whether every condition holds.
func (r Readiness) Ready() bool { return r.InitialSync && r.RedisConnected && r.PortInitDone }

// ReadyFunc reports readiness.
type ReadyFunc func(ctx context.Context) Readiness

// DumpFunc returns every actor's state for /debug/actors, as a value that
// encodes to JSON (e.g. the actors' messages.StateDump answers).
type DumpFunc func(ctx context.Context) (any, error)

// checkTimeout bounds each call of a HealthFunc, ReadyFunc or DumpFunc.
const checkTimeout = 2 * time.Second

// Option changes what Handler and Listen serve.
type Option func(*options)

type options struct {
	pprof bool
}

// WithPprof serves net/http/pprof's profiles under /debug/pprof/ when on
// (portsyncd --pprof). They show the process's internals and a CPU profile
// costs CPU while it runs: the caller keeps them to a loopback address. A
// profile longer than the server's write timeout (30 s) is refused by
// pprof itself.
func WithPprof(on bool) Option { return func(o *options) { o.pprof = on } }

// Handler returns the HTTP handler of /metrics, /healthz, /readyz and
// /debug/actors (and /debug/pprof/ WithPprof). actorsDump may be nil:
// /debug/actors then answers 404.
func Handler(reg prometheus.Gatherer, health HealthFunc, ready ReadyFunc, actorsDump DumpFunc, opts ...Option) http.Handler {
	return handler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), health, ready, actorsDump, opts)
}

func handler(scrape http.Handler, health HealthFunc, ready ReadyFunc, actorsDump DumpFunc, opts []Option) http.Handler {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	mux := http.NewServeMux()
	paths := "/metrics /healthz /readyz /debug/actors"
	if o.pprof {
		// Registered on this mux only: the pprof package's init also adds
		// them to http.DefaultServeMux, which nothing here serves.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		paths += " /debug/pprof/"
	}
	mux.Handle("GET /metrics", scrape)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		defer cancel()
		if err := health(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unhealthy", "reason": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		defer cancel()
		rd := ready(ctx)
		body := struct {
			Status string `json:"status"`
			Readiness
		}{"ready", rd}
		code := http.StatusOK
		if !rd.Ready() {
			body.Status, code = "not_ready", http.StatusServiceUnavailable
		}
		writeJSON(w, code, body)
	})
	mux.HandleFunc("GET /debug/actors", func(w http.ResponseWriter, r *http.Request) {
		if actorsDump == nil {
			http.NotFound(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		defer cancel()
		v, err := actorsDump(ctx)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "portsyncd: "+paths)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]string{"error": "metrics: encode: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// Server serves Handler on a listening socket.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds addr (host:port; port 0 picks a free one) and returns the
// server, not yet serving. health and ready must not be nil.
func Listen(addr string, reg prometheus.Gatherer, health HealthFunc, ready ReadyFunc, actorsDump DumpFunc, opts ...Option) (*Server, error) {
	if reg == nil || health == nil || ready == nil {
		return nil, errors.New("metrics: registry, health and ready are required")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	srv := &http.Server{
		Handler:           handler(newCachedScrape(reg, scrapeEvery), health, ready, actorsDump, opts),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
	}
	// One request per connection: the few connection slots then go round
	// the clients in the order they connected, and none keeps one.
	srv.SetKeepAlivesEnabled(false)
	return &Server{ln: newLimitListener(ln, maxConns, acceptRate, acceptBurst), srv: srv}, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// shutdownGrace bounds the wait for requests in progress at shutdown.
const shutdownGrace = 5 * time.Second

// Serve serves until ctx ends, then stops accepting, lets requests in
// progress finish (within shutdownGrace) and returns nil. It returns an
// error if serving fails before that.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("metrics: shutdown: %w", err)
	}
	return nil
}
