// Package metrics exposes portsyncd's figures to Prometheus, and serves
// /metrics, /healthz, /readyz and /debug/actors over HTTP.
//
// It owns a Prometheus registry of its own and the HTTP server. It knows no
// actor: every figure comes from a Sources function that the wiring
// (cmd/portsyncd, the supervisor) fills from the actors' Stats, read at
// scrape time; the latency and batch-size histograms are observed by the
// writer through ObserveLatency and ObserveBatchSize. Health, readiness and
// the actors' dump are functions given to Serve.
//
// It must never send to an actor from a source function, block the
// pipeline, or write Redis: a scrape reads atomics and the newest kstats
// sample, nothing else. The server listens on loopback by default
// (DefaultAddr) and stops with its context.
//
// Names follow Prometheus conventions: the portsyncd_ prefix, base units
// (seconds, bytes) in the name, _total on counters. The registry also holds
// client_golang's stock Go and process collectors (go_*, process_*). The
// Grafana dashboard in packaging/grafana and the alerting rules in
// packaging/prometheus query only names this registry has; tests keep them
// in step, and check that every query aggregates by instance.
package metrics
