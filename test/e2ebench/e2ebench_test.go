// Package e2ebench measures portsyncd end to end on the real kernel and a
// real redis-server, with same-run baselines (Redis PING, netlink delivery, a
// bare netlink-to-Redis relay). In CI it runs at a tiny size and checks that
// every figure is there; the full run is
//
//	./scripts/bench.sh     # go test ./test/e2ebench -run E2E -v -timeout 30m -args -e2e.full ...
package e2ebench

import (
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sonic-go/portsyncd/test/harness"
)

var (
	full    = flag.Bool("e2e.full", false, "full-size run (default: a smoke run at tiny sizes)")
	jsonOut = flag.String("e2e.json", "", "write the results as JSON to this file")
	svgOut  = flag.String("e2e.svg", "", "write latency CDFs as SVG to this file")
	scale   = flag.String("e2e.scale", "", "port counts for the scale runs, comma-separated (default: by size)")
	cpuProf = flag.String("e2e.cpuprofile", "", "have the daemon of the main run write a CPU profile here")
)

type params struct {
	ports     int
	rates     []int
	duration  time.Duration
	sustain   time.Duration
	backlog   int
	scale     []int
	baselineN int
}

func chosen() params {
	if *full {
		return params{ports: 64, rates: []int{100, 1000, 10000}, duration: 5 * time.Second,
			sustain: 10 * time.Second, backlog: 6000, scale: []int{64, 512, 4096}, baselineN: 5000}
	}
	return params{ports: 8, rates: []int{100, 1000}, duration: time.Second,
		sustain: time.Second, backlog: 500, scale: []int{16}, baselineN: 200}
}

func TestMain(m *testing.M) { harness.Main(m) }

func TestE2EBench(t *testing.T) {
	harness.RequireRoot(t)
	p := chosen()
	if *scale != "" {
		p.scale = nil
		for _, f := range strings.Split(*scale, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("-e2e.scale: %v", err)
			}
			p.scale = append(p.scale, n)
		}
	}
	r := &Results{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Ports: p.ports}
	var args []string
	if *cpuProf != "" {
		args = append(args, "--cpu-profile", *cpuProf)
	}
	w, _ := newWorld(t, p.ports, args...)
	w.converged()

	r.Ping = summarize("redis PING", w.measurePing(p.baselineN))
	r.Netlink = summarize("netlink delivery", w.measureNetlink(p.baselineN))
	w.converged()

	// The bare relay runs while the daemon is stopped; its socket overflows
	// meanwhile and it resynchronises when continued.
	w.daemon.Signal(t, syscall.SIGSTOP)
	stopRelay := w.relay()
	for _, rate := range p.rates {
		run := w.measureLatency(rate, p.duration)
		r.Relay = append(r.Relay, latencyResult(fmt.Sprintf("relay %d/s", rate), rate, run))
	}
	stopRelay()
	w.daemon.Signal(t, syscall.SIGCONT)
	w.converged()

	for _, rate := range p.rates {
		cpu0, _, _ := w.procStat()
		t0 := time.Now()
		run := w.measureLatency(rate, p.duration)
		cpu1, _, _ := w.procStat()
		lr := latencyResult(fmt.Sprintf("portsyncd %d/s", rate), rate, run)
		lr.CPUPercent = 100 * (cpu1 - cpu0).Seconds() / time.Since(t0).Seconds()
		r.Daemon = append(r.Daemon, lr)
	}
	w.converged()

	// Sustained: the generator as fast as the kernel acks, for p.sustain.
	gen := w.dial(false)
	before := w.counters()
	cpu0, _, _ := w.procStat()
	n, _ := w.flood(gen, p.sustain, 0)
	w.converged()
	cpu1, _, _ := w.procStat()
	after := w.counters()
	r.Sustained = Sustained{
		Generated:      n,
		PerSec:         float64(n) / p.sustain.Seconds(),
		Processed:      after["events"] + after["unchanged"] - before["events"] - before["unchanged"],
		Overruns:       after["overruns"] - before["overruns"],
		CPUUsPerEvent:  float64((cpu1 - cpu0).Microseconds()) / float64(n),
		FinalStateGood: true, // converged() fails the test otherwise
	}
	// The generator alone, the daemon stopped.
	w.daemon.Signal(t, syscall.SIGSTOP)
	n, _ = w.flood(gen, p.sustain, 0)
	r.Sustained.GeneratorAlonePerSec = float64(n) / p.sustain.Seconds()
	w.daemon.Signal(t, syscall.SIGCONT)
	w.converged()

	// Backlog: K changes queued in the stopped daemon's socket.
	before = w.counters()
	w.daemon.Signal(t, syscall.SIGSTOP)
	k, final := w.flood(gen, 0, p.backlog)
	// A last round to an MTU no port had: with 9000/9001 toggling alone, a
	// port changed an even number of times ends where it began, and its
	// "final" state would be visible before the daemon read anything.
	for _, name := range w.ports {
		if err := setMTU(gen, w.index[name], 8999); err != nil {
			t.Fatal(err)
		}
		w.mtu[name], final[name] = 8999, 8999
		k++
	}
	w.daemon.Signal(t, syscall.SIGCONT)
	t0 := time.Now()
	w.waitMTUs(final)
	elapsed := time.Since(t0)
	after = w.counters()
	r.Backlog = Backlog{Events: k, Seconds: elapsed.Seconds(), PerSec: float64(k) / elapsed.Seconds(),
		Overruns: after["overruns"] - before["overruns"]}
	_, r.PeakRSS, _ = w.procStat()
	// A clean exit writes the daemon's CPU profile.
	w.daemon.Signal(t, syscall.SIGTERM)
	w.daemon.Wait(10 * time.Second)

	for _, size := range p.scale {
		t.Run(fmt.Sprintf("scale%d", size), func(t *testing.T) {
			sw, toInit := newWorld(t, size)
			_, hwm, rss := sw.procStat()
			r.Scale = append(r.Scale, Scale{Ports: size, InitDoneSeconds: toInit.Seconds(), PeakRSS: hwm, RSS: rss})
		})
	}

	r.print()
	if err := r.write(*jsonOut, *svgOut); err != nil {
		t.Fatal(err)
	}
	r.check(t)
}

var counterRE = regexp.MustCompile(`\b(events|unchanged|overruns|writes|coalesced|batches):(\d+)`)

// counters asks the daemon for its state (SIGUSR1) and returns netlinkrx's
// and dbwriter's counters.
func (w *world) counters() map[string]int {
	w.t.Helper()
	mark := strings.Count(w.daemon.Log(), `msg="actor state" actor=dbwriter`)
	w.daemon.Signal(w.t, syscall.SIGUSR1)
	harness.Eventually(w.t, 10*time.Second, func() bool {
		return strings.Count(w.daemon.Log(), `msg="actor state" actor=dbwriter`) > mark
	}, func() string { return "no state dump" })
	return parseCounters(w.daemon.Log())
}

func parseCounters(log string) map[string]int {
	out := make(map[string]int)
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0 && len(out) < 6; i-- {
		if !strings.Contains(lines[i], `msg="actor state"`) {
			continue
		}
		for _, m := range counterRE.FindAllStringSubmatch(lines[i], -1) {
			if _, seen := out[m[1]]; !seen {
				out[m[1]], _ = strconv.Atoi(m[2])
			}
		}
	}
	return out
}

// waitMTUs waits until STATE_DB shows each port's final MTU.
func (w *world) waitMTUs(final map[string]uint32) {
	w.t.Helper()
	ctx := w.t.Context()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		pipe := w.state.Pipeline()
		cmds := make(map[string]interface{ Val() string })
		for name := range final {
			cmds[name] = pipe.HGet(ctx, "PORT_TABLE|"+name, "mtu")
		}
		pipe.Exec(ctx)
		ok := true
		for name, mtu := range final {
			if cmds[name].Val() != strconv.Itoa(int(mtu)) {
				ok = false
				break
			}
		}
		if ok {
			return
		}
		time.Sleep(time.Millisecond)
	}
	w.t.Fatalf("STATE_DB never showed the final MTUs")
}
