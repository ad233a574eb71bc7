package e2ebench

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Results is everything one run measured; it is also the JSON written.
type Results struct {
	Date      string
	Machine   string
	Ports     int
	Ping      Latency
	Netlink   Latency
	Relay     []Latency
	Daemon    []Latency
	Sustained Sustained
	Backlog   Backlog
	PeakRSS   int64
	Scale     []Scale
}

// Latency summarises one series, in microseconds.
type Latency struct {
	Name                     string
	Rate                     int
	N, Lost, Skipped         int
	AchievedPerSec           float64
	P50, P90, P99, P999, Max float64
	CPUPercent               float64
	samples                  []time.Duration
}

type Sustained struct {
	Generated, Processed, Overruns int
	PerSec, GeneratorAlonePerSec   float64
	CPUUsPerEvent                  float64
	FinalStateGood                 bool
}

type Backlog struct {
	Events, Overruns int
	Seconds, PerSec  float64
}

type Scale struct {
	Ports           int
	InitDoneSeconds float64
	PeakRSS, RSS    int64
}

func summarize(name string, lat []time.Duration) Latency {
	s := slices.Clone(lat)
	slices.Sort(s)
	q := func(p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		return float64(s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)].Nanoseconds()) / 1e3
	}
	return Latency{Name: name, N: len(s), P50: q(0.5), P90: q(0.9), P99: q(0.99), P999: q(0.999), Max: q(1), samples: s}
}

func latencyResult(name string, rate int, run latencyRun) Latency {
	l := summarize(name, run.Lat)
	l.Rate, l.Lost, l.Skipped, l.AchievedPerSec = rate, run.Lost, run.Skipped, run.AchievedPerSec
	return l
}

func machine() string {
	cpu := "unknown cpu"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%s, %d cores, kernel %s, %s", cpu, runtime.NumCPU(), strings.TrimSpace(string(kernel)), runtime.Version())
}

func (r *Results) print() {
	fmt.Printf("\nportsyncd end-to-end benchmark, %s\n%s, %d ports\n\n", r.Date, r.Machine, r.Ports)
	fmt.Printf("%-22s %8s %7s %5s %9s %9s %9s %9s %9s %7s\n", "latency (us)", "rate/s", "n", "lost", "p50", "p90", "p99", "p99.9", "max", "cpu%")
	row := func(l Latency) {
		fmt.Printf("%-22s %8.0f %7d %5d %9.1f %9.1f %9.1f %9.1f %9.1f %7.2f\n",
			l.Name, l.AchievedPerSec, l.N, l.Lost, l.P50, l.P90, l.P99, l.P999, l.Max, l.CPUPercent)
	}
	row(r.Ping)
	row(r.Netlink)
	for _, l := range r.Relay {
		row(l)
	}
	for _, l := range r.Daemon {
		row(l)
	}
	fmt.Println()
	for i, d := range r.Daemon {
		if i < len(r.Relay) && r.Relay[i].P50 > 0 {
			fmt.Printf("P50 portsyncd / relay at %d/s: %.2f\n", d.Rate, d.P50/r.Relay[i].P50)
		}
	}
	s := r.Sustained
	fmt.Printf("\nsustained: generator %d changes (%.0f/s; alone %.0f/s), processed %d, overruns %d, %.2f us CPU/event, final state correct: %v\n",
		s.Generated, s.PerSec, s.GeneratorAlonePerSec, s.Processed, s.Overruns, s.CPUUsPerEvent, s.FinalStateGood)
	fmt.Printf("backlog: %d changes drained in %.3f s = %.0f events/s, overruns %d\n",
		r.Backlog.Events, r.Backlog.Seconds, r.Backlog.PerSec, r.Backlog.Overruns)
	fmt.Printf("peak RSS %.1f MiB\n", float64(r.PeakRSS)/(1<<20))
	for _, sc := range r.Scale {
		fmt.Printf("scale %5d ports: PortInitDone %.3f s after the last port appeared, RSS %.1f MiB (peak %.1f MiB)\n",
			sc.Ports, sc.InitDoneSeconds, float64(sc.RSS)/(1<<20), float64(sc.PeakRSS)/(1<<20))
	}
}

func (r *Results) write(jsonPath, svgPath string) error {
	if jsonPath != "" {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonPath, b, 0o644); err != nil {
			return err
		}
	}
	if svgPath != "" {
		series := append([]Latency{r.Ping, r.Netlink}, append(slices.Clone(r.Relay), r.Daemon...)...)
		if err := os.WriteFile(svgPath, []byte(cdfSVG(series)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// check fails the run when a figure is missing: the benchmark prints, people
// judge, but a run that measured nothing must not pass.
func (r *Results) check(t *testing.T) {
	for _, l := range append([]Latency{r.Ping, r.Netlink}, append(r.Relay, r.Daemon...)...) {
		if l.N == 0 || l.P50 <= 0 {
			t.Errorf("%s: no samples", l.Name)
		}
	}
	if len(r.Daemon) > 0 && r.Daemon[0].Lost != 0 {
		t.Errorf("%s: %d changes never reached STATE_DB", r.Daemon[0].Name, r.Daemon[0].Lost)
	}
	if r.Sustained.Generated == 0 || r.Backlog.PerSec <= 0 || r.PeakRSS <= 0 || len(r.Scale) == 0 || r.Scale[0].InitDoneSeconds <= 0 {
		t.Errorf("throughput, memory or scale figures missing: %+v %+v %d %+v", r.Sustained, r.Backlog, r.PeakRSS, r.Scale)
	}
}

// cdfSVG draws one latency CDF per series, x in microseconds on a log scale.
func cdfSVG(series []Latency) string {
	const w, h, left, bottom = 900.0, 520.0, 60.0, 40.0
	lo, hi := 1.0, 5.0 // 10 us .. 100 ms
	x := func(us float64) float64 {
		v := math.Log10(math.Max(us, 10))
		return left + (math.Min(v, hi)-lo)/(hi-lo)*(w-left-20)
	}
	y := func(f float64) float64 { return h - bottom - f*(h-bottom-20) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", w, h+18*float64(len(series)))
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	for e := lo; e <= hi; e++ {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="20" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n",
			x(math.Pow(10, e)), x(math.Pow(10, e)), h-bottom, x(math.Pow(10, e)), h-bottom+16, []string{"10us", "100us", "1ms", "10ms", "100ms"}[int(e-lo)])
	}
	for _, f := range []float64{0, 0.5, 0.9, 0.99, 1} {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/><text x="%.1f" y="%.1f" text-anchor="end">%.2f</text>`+"\n",
			left, y(f), w-20, y(f), left-4, y(f)+4, f)
	}
	colors := []string{"#000", "#888", "#1f77b4", "#2ca02c", "#17becf", "#d62728", "#ff7f0e", "#9467bd"}
	for i, s := range series {
		c := colors[i%len(colors)]
		var pts strings.Builder
		step := max(1, len(s.samples)/500)
		for j := 0; j < len(s.samples); j += step {
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(float64(s.samples[j].Nanoseconds())/1e3), y(float64(j+1)/float64(len(s.samples))))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", c, pts.String())
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="12" height="4" fill="%s"/><text x="%.0f" y="%.0f">%s (p50 %.0f us, p99 %.0f us)</text>`+"\n",
			left, h+6+18*float64(i), c, left+18, h+12+18*float64(i), s.Name, s.P50, s.P99)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
