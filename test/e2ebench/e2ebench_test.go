// Package e2ebench measures portsyncd end to end on the real kernel and a
// real redis-server, with same-run baselines: Redis PING, netlink delivery,
// a bare netlink-to-Redis relay and, when asked for with -e2e.cpp, SONiC's
// original C++ portsyncd. In CI it runs at a tiny size and checks that every
// figure is there; the full run is
//
//	./scripts/bench.sh     # go test ./test/e2ebench -run E2E -v -timeout 90m -args -e2e.full ...
package e2ebench

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sonic-go/portsyncd/test/harness"
)

var (
	full       = flag.Bool("e2e.full", false, "full-size run (default: a smoke run at tiny sizes)")
	jsonOut    = flag.String("e2e.json", "", "write the results as JSON to this file")
	svgOut     = flag.String("e2e.svg", "", "write latency CDFs as SVG to this file")
	scale      = flag.String("e2e.scale", "", "port counts for the scale runs, comma-separated (default: by size)")
	cpuProf    = flag.String("e2e.cpuprofile", "", "have the daemon of the main run write a CPU profile here")
	cppDir     = flag.String("e2e.cpp", "", "directory of the original C++ portsyncd (its run.sh); measured next to ours when given")
	daemonArgs = flag.String("e2e.args", "", "extra portsyncd flags, space-separated, e.g. \"--gomaxprocs=2\"")
	sustainN   = flag.Int("e2e.sustained", 0, "changes in the sustained run (default: by size)")
	duration   = flag.Duration("e2e.duration", 0, "length of each latency run (default: by size)")
	rates      = flag.String("e2e.rates", "", "rates of the latency runs, changes a second, comma-separated (default: 100,1000,10000)")
	logLevel   = flag.String("e2e.loglevel", "", "CONFIG_DB LOGGER|portsyncd LOGLEVEL for portsyncd (default: its own, NOTICE)")
	relayMode  = flag.String("e2e.relay", "", "internal: run as the bare relay, writing to the redis-server on this unix socket")
)

// params are the sizes of a run.
type params struct {
	Ports     int
	Rates     []int
	Duration  time.Duration
	Burst     int // changes back to back
	Backlog   int // changes queued in a stopped subject
	Sustained int // changes at the generator's maximum
	Scale     []int
	BaselineN int
}

func chosen() params {
	if *full {
		// Backlog: fits the original's receive buffer (8 MiB, rmem_max
		// doubled) with room to spare, so that no subject overruns.
		return params{Ports: 64, Rates: []int{100, 1000, 10000}, Duration: 5 * time.Second, Burst: 10000,
			Backlog: 2000, Sustained: 1000000, Scale: []int{64, 512, 4096}, BaselineN: 5000}
	}
	return params{Ports: 8, Rates: []int{100, 1000, 10000}, Duration: time.Second, Burst: 1000,
		Backlog: 500, Sustained: 3000, Scale: []int{16}, BaselineN: 200}
}

func TestMain(m *testing.M) {
	flag.Parse()
	if *relayMode != "" {
		os.Exit(runRelay(*relayMode))
	}
	harness.Main(m)
}

func TestE2EBench(t *testing.T) {
	harness.RequireRoot(t)
	p := chosen()
	if *scale != "" {
		p.Scale = ints(t, "-e2e.scale", *scale, 2, "port counts")
	}
	if *rates != "" {
		p.Rates = ints(t, "-e2e.rates", *rates, 1, "rates")
	}
	if *sustainN < 0 || *duration < 0 {
		t.Fatalf("-e2e.sustained and -e2e.duration must not be negative")
	}
	if *sustainN > 0 {
		p.Sustained = *sustainN
	}
	if *duration > 0 {
		p.Duration = *duration
	}
	r := &Results{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), LoadAvg: loadAvg(), Ports: p.Ports, Sizes: p}
	original := ""
	if *cppDir != "" {
		if _, err := os.Stat(filepath.Join(*cppDir, "run.sh")); err != nil {
			t.Fatalf("-e2e.cpp: %v", err)
		}
		original = *cppDir
	} else {
		r.OriginalSkipped = "no -e2e.cpp given"
	}
	args := strings.Fields(*daemonArgs)
	if *cpuProf != "" {
		args = append(args, "--cpu-profile", *cpuProf)
	}
	w, _ := newWorld(t, p.Ports, worldOpts{ours: true, args: args, original: original, relay: true})
	w.converged()
	// What a SIGUSR1 dump itself allocates, to take out of portsyncd's
	// allocations per event.
	c0 := w.ours.counters()
	w.dumpAllocs = w.ours.counters()["heap_allocs"] - c0["heap_allocs"]
	r.DumpAllocs = w.dumpAllocs

	// Baselines with every subject stopped.
	for _, s := range w.subjects {
		s.signal(syscall.SIGSTOP)
	}
	r.Ping = summarize("redis PING", w.measurePing(p.BaselineN))
	r.Netlink = summarize("netlink delivery", w.measureNetlink(p.BaselineN))

	results := make(map[*subject]*Subject)
	for _, s := range w.subjects {
		results[s] = &Subject{Name: s.name}
	}
	// Latency: rates outer, subjects inner, so that the machine's noise
	// spreads over all of them alike.
	for _, rate := range p.Rates {
		for _, s := range w.subjects {
			w.activate(s)
			results[s].Latency = append(results[s].Latency, w.latencyRow(s, rate, p.Duration))
		}
	}
	// portsyncd again at 1K/s (or the highest rate below), observed.
	if obsRate := observedRate(p.Rates); obsRate > 0 {
		w.activate(w.ours)
		o := w.observedRow(w.ours, obsRate, p.Duration)
		r.Observed = &o
	}
	for _, s := range w.subjects {
		w.activate(s)
		results[s].Burst = w.burst(s, p.Burst)
		w.activate(s)
		results[s].Backlog = w.backlog(s, p.Backlog)
		w.activate(s)
		results[s].Sustained = w.sustained(s, p.Sustained)
		smp := s.sample()
		results[s].RSS, results[s].PeakRSS = smp.RSS, smp.HWM
		if s.ours && !results[s].Sustained.FinalStateGood {
			t.Errorf("portsyncd: STATE_DB differs from the kernel after the sustained run")
		}
	}
	for _, s := range w.subjects {
		r.Subjects = append(r.Subjects, *results[s])
		s.signal(syscall.SIGSTOP)
	}
	// The generator alone, every subject stopped.
	n := min(p.Sustained, 100000)
	_, _, took := w.flood(n)
	r.GeneratorAlonePerSec = float64(n) / took.Seconds()

	// A clean exit writes portsyncd's CPU profile.
	w.ours.signal(syscall.SIGCONT)
	w.ours.signal(syscall.SIGTERM)
	w.ours.proc.Wait(10 * time.Second)

	for _, size := range p.Scale {
		t.Run(fmt.Sprintf("scale%d", size), func(t *testing.T) {
			sw, toInit := newWorld(t, size, worldOpts{ours: true, args: strings.Fields(*daemonArgs)})
			sw.converged()
			smp := sw.ours.sample()
			r.Scale = append(r.Scale, Scale{Subject: "portsyncd", Ports: size, InitDoneSeconds: toInit.Seconds(), PeakRSS: smp.HWM, RSS: smp.RSS})
		})
		if original == "" {
			continue
		}
		t.Run(fmt.Sprintf("scale%d-original", size), func(t *testing.T) {
			sw, toInit := newWorld(t, size, worldOpts{original: original})
			sw.converged()
			smp := sw.original.sample()
			r.Scale = append(r.Scale, Scale{Subject: "original", Ports: size, InitDoneSeconds: toInit.Seconds(), PeakRSS: smp.HWM, RSS: smp.RSS})
		})
	}

	r.LoadAvg += " -> " + loadAvg()
	r.Targets = r.targets()
	r.print()
	if err := r.write(*jsonOut, *svgOut); err != nil {
		t.Fatal(err)
	}
	r.check(t, original != "")
}

// ints parses a comma-separated list of what (at least least each) given
// as flag.
func ints(t *testing.T, flag, list string, least int, what string) []int {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < least {
			t.Fatalf("%s %q: want %s of %d or more", flag, list, what, least)
		}
		out = append(out, n)
	}
	return out
}

// observedRate is the rate of the observed run: 1K/s if measured, else the
// highest measured rate below it; 0 for none.
func observedRate(rates []int) int {
	best := 0
	for _, r := range rates {
		if r <= 1000 && r > best {
			best = r
		}
	}
	return best
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// readCounters takes the counters the benchmark reads from the newest state
// dump (SIGUSR1) in dir.
func readCounters(dir string) (map[string]int, error) {
	names, err := filepath.Glob(filepath.Join(dir, "portsyncd-state-*.json"))
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("no state dump in %s (%v)", dir, err)
	}
	slices.Sort(names)
	b, err := os.ReadFile(names[len(names)-1])
	if err != nil {
		return nil, err
	}
	var doc struct {
		Runtime struct {
			HeapAllocs int `json:"heap_allocs"`
		} `json:"runtime"`
		Actors struct {
			Netlink struct {
				Events, Unchanged, Overruns int
			} `json:"netlinkrx"`
			Writer struct {
				Writes, Coalesced, Batches int
			} `json:"dbwriter"`
		} `json:"actors"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("state dump %s: %w", names[len(names)-1], err)
	}
	nl, wr := doc.Actors.Netlink, doc.Actors.Writer
	return map[string]int{
		"events": nl.Events, "unchanged": nl.Unchanged, "overruns": nl.Overruns,
		"writes": wr.Writes, "coalesced": wr.Coalesced, "batches": wr.Batches,
		"heap_allocs": doc.Runtime.HeapAllocs,
	}, nil
}
