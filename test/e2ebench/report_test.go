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
// A figure of -1 was not measured for that subject (counters only
// portsyncd has).
type Results struct {
	Date, Machine, LoadAvg string
	Ports                  int
	Sizes                  params
	Ping, Netlink          Latency
	// Subjects: portsyncd, the original (when run) and the relay.
	Subjects []Subject
	// OriginalSkipped says why the original C++ portsyncd was not run.
	OriginalSkipped      string `json:",omitempty"`
	GeneratorAlonePerSec float64
	DumpAllocs           int // allocations of one SIGUSR1 dump, subtracted from portsyncd's
	Scale                []Scale
	Targets              []Target
	// Observed is portsyncd at 1K/s under observation (nil when not run).
	Observed *Observed `json:",omitempty"`
}

// Subject is one subject's figures from the main world.
type Subject struct {
	Name         string
	Latency      []Latency // one per rate
	Burst        Burst
	Backlog      Backlog
	Sustained    Sustained
	RSS, PeakRSS int64 // after the sustained run
}

// Latency summarises one series, in microseconds, and what the run cost.
type Latency struct {
	Name, Subject            string
	Rate                     int
	N, Lost, Skipped         int
	AchievedPerSec           float64
	P50, P90, P99, P999, Max float64
	CPUPercent               float64
	CPUUsPerEvent            float64
	CtxSwitchesPerEvent      float64
	AllocsPerEvent           float64 // portsyncd only
	Superseded               int     // changes coalesced before they were written; portsyncd only
	KernelDrops              int64
	samples                  []time.Duration
}

type Burst struct {
	Changes        int
	PerSec         float64
	Overruns       int // portsyncd's counter
	KernelDrops    int64
	FinalStateGood bool
}

type Backlog struct {
	Events, Overruns int
	KernelDrops      int64
	QueuedBytes      int64 // in the stopped subject's socket before SIGCONT
	Complete         bool  // the final state was reached
	Seconds, PerSec  float64
}

type Sustained struct {
	Generated, Processed, Overruns int
	KernelDrops                    int64
	PerSec                         float64
	CPUUsPerEvent                  float64
	CtxSwitchesPerEvent            float64
	AllocsPerEvent                 float64
	FinalStateGood                 bool
	RSSSamples                     int
	RSSFirst, RSSLast, RSSMax      int64
}

type Scale struct {
	Subject         string
	Ports           int
	InitDoneSeconds float64
	PeakRSS, RSS    int64
}

// Target is one line of issue 11's target table.
type Target struct {
	Figure   string
	Limit    string
	Measured string
	Verdict  string // met, missed by ..., or skipped (why)
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
	return Latency{Name: name, N: len(s), P50: q(0.5), P90: q(0.9), P99: q(0.99), P999: q(0.999), Max: q(1), samples: s,
		AllocsPerEvent: -1, Superseded: -1}
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

func (r *Results) subject(name string) *Subject {
	for i := range r.Subjects {
		if r.Subjects[i].Name == name {
			return &r.Subjects[i]
		}
	}
	return nil
}

func (s *Subject) at(rate int) *Latency {
	if s == nil {
		return nil
	}
	for i := range s.Latency {
		if s.Latency[i].Rate == rate {
			return &s.Latency[i]
		}
	}
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func orNA(v float64, format string) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf(format, v)
}

func (r *Results) print() {
	fmt.Printf("\nportsyncd end-to-end benchmark, %s\n%s, %d ports, load average %s\n", r.Date, r.Machine, r.Ports, r.LoadAvg)
	if r.OriginalSkipped != "" {
		fmt.Printf("original: skipped (%s)\n", r.OriginalSkipped)
	}
	fmt.Printf("\n%-20s %7s %6s %4s %5s %8s %8s %8s %8s %8s %6s %7s %6s %7s %5s\n", "latency (us)", "rate/s", "n", "lost", "skip",
		"p50", "p90", "p99", "p99.9", "max", "cpu%", "cpu-us/e", "csw/e", "alloc/e", "supsd")
	row := func(l Latency) {
		sup := "n/a"
		if l.Superseded >= 0 {
			sup = fmt.Sprint(l.Superseded)
		}
		fmt.Printf("%-20s %7.0f %6d %4d %5d %8.1f %8.1f %8.1f %8.1f %8.1f %6.2f %7.1f %6.2f %7s %5s\n",
			l.Name, l.AchievedPerSec, l.N, l.Lost, l.Skipped, l.P50, l.P90, l.P99, l.P999, l.Max,
			l.CPUPercent, l.CPUUsPerEvent, l.CtxSwitchesPerEvent, orNA(l.AllocsPerEvent, "%.1f"), sup)
	}
	row(r.Ping)
	row(r.Netlink)
	for _, s := range r.Subjects {
		for _, l := range s.Latency {
			row(l)
		}
	}
	if r.OriginalSkipped != "" {
		fmt.Printf("%-20s skipped\n", "original")
	}
	if o := r.Observed; o != nil {
		row(o.Latency)
		fmt.Printf("  observed: %d clients looping on /metrics, /readyz, /debug/actors got %d answers (%.0f/s); %d SIGUSR1 dumps\n",
			o.Clients, o.Requests, o.RequestsSec, o.Dumps)
		if q := r.subject("portsyncd").at(o.Rate); q != nil && q.P99 > 0 && q.CPUUsPerEvent > 0 {
			fmt.Printf("  observed over quiet at %d/s: p50 %.2fx, p99 %.2fx, cpu/e %.2fx\n", o.Rate, o.P50/q.P50, o.P99/q.P99, o.CPUUsPerEvent/q.CPUUsPerEvent)
		}
	}

	fmt.Printf("\nratios, portsyncd over       %12s %12s %12s %12s %12s %12s\n", "p50/orig", "p50/relay", "p99/orig", "p99/relay", "cpu/e orig", "cpu/e relay")
	ours, orig, relay := r.subject("portsyncd"), r.subject("original"), r.subject("relay")
	ratio := func(a, b *Latency, f func(*Latency) float64) string {
		if a == nil || b == nil || f(b) <= 0 {
			return "skipped"
		}
		return fmt.Sprintf("%.2fx", f(a)/f(b))
	}
	p50 := func(l *Latency) float64 { return l.P50 }
	p99 := func(l *Latency) float64 { return l.P99 }
	cpu := func(l *Latency) float64 { return l.CPUUsPerEvent }
	if ours != nil {
		for _, l := range ours.Latency {
			o, rl := orig.at(l.Rate), relay.at(l.Rate)
			fmt.Printf("  at %6d/s                %12s %12s %12s %12s %12s %12s\n", l.Rate,
				ratio(&l, o, p50), ratio(&l, rl, p50), ratio(&l, o, p99), ratio(&l, rl, p99), ratio(&l, o, cpu), ratio(&l, rl, cpu))
		}
	}

	fmt.Println()
	names := []string{"portsyncd", "original", "relay"}
	for _, name := range names {
		s := r.subject(name)
		if s == nil {
			fmt.Printf("%-9s burst: skipped; backlog: skipped; sustained: skipped; RSS: skipped\n", name)
			continue
		}
		b := s.Burst
		fmt.Printf("%-9s burst: %d changes back to back (%.0f/s), overruns %s, kernel drops %d, final state correct: %v\n",
			name, b.Changes, b.PerSec, orNA(float64(b.Overruns), "%.0f"), b.KernelDrops, b.FinalStateGood)
		bl := s.Backlog
		if bl.Complete {
			fmt.Printf("%-9s backlog: %d changes (%.1f MiB queued) drained in %.3f s = %.0f events/s, overruns %s, kernel drops %d\n",
				name, bl.Events, mib(bl.QueuedBytes), bl.Seconds, bl.PerSec, orNA(float64(bl.Overruns), "%.0f"), bl.KernelDrops)
		} else {
			fmt.Printf("%-9s backlog: %d changes (%.1f MiB queued): final state never reached, kernel drops %d\n",
				name, bl.Events, mib(bl.QueuedBytes), bl.KernelDrops)
		}
		u := s.Sustained
		fmt.Printf("%-9s sustained: %d changes at %.0f/s, processed %s, overruns %s, kernel drops %d, %.1f us CPU/event, %.2f csw/event, %s allocs/event, final state correct: %v\n",
			name, u.Generated, u.PerSec, orNA(float64(u.Processed), "%.0f"), orNA(float64(u.Overruns), "%.0f"), u.KernelDrops,
			u.CPUUsPerEvent, u.CtxSwitchesPerEvent, orNA(u.AllocsPerEvent, "%.2f"), u.FinalStateGood)
		fmt.Printf("%-9s RSS during sustained (%d samples): first %.1f, last %.1f, max %.1f MiB; after: %.1f MiB (peak %.1f MiB)\n",
			name, u.RSSSamples, mib(u.RSSFirst), mib(u.RSSLast), mib(u.RSSMax), mib(s.RSS), mib(s.PeakRSS))
	}
	fmt.Printf("generator alone (every subject stopped): %.0f changes/s\n", r.GeneratorAlonePerSec)
	for _, sc := range r.Scale {
		fmt.Printf("scale %5d ports, %-9s: PortInitDone %.3f s after the last port appeared, RSS %.1f MiB (peak %.1f MiB)\n",
			sc.Ports, sc.Subject, sc.InitDoneSeconds, mib(sc.RSS), mib(sc.PeakRSS))
	}
	if r.OriginalSkipped != "" {
		fmt.Printf("scale, original: skipped\n")
	}
	fmt.Printf("allocations per event: portsyncd's own heap allocation count (runtime.ReadMemStats on SIGUSR1; background work included), less %d for the dump itself\n", r.DumpAllocs)

	fmt.Printf("\n%-46s %-12s %-40s %s\n", "target (issue 11)", "limit", "measured", "verdict")
	for _, t := range r.Targets {
		fmt.Printf("%-46s %-12s %-40s %s\n", t.Figure, t.Limit, t.Measured, t.Verdict)
	}
}

// notMeasured marks a figure of a rate the run left out.
const notMeasured = -2

// targets judges the figures against issue 11's table.
func (r *Results) targets() []Target {
	ours, orig, relay := r.subject("portsyncd"), r.subject("original"), r.subject("relay")
	var out []Target
	// atMost judges a ratio a/b against limit (a smaller figure is better).
	atMost := func(figure string, a, b float64, aName, bName string, limit float64) {
		t := Target{Figure: figure, Limit: fmt.Sprintf("<= %.2fx", limit)}
		switch {
		case a == notMeasured || b == notMeasured:
			t.Measured, t.Verdict = "-", "not run: -e2e.rates leaves it out"
		case a < 0 || b < 0:
			t.Measured, t.Verdict = "-", "skipped: "+bName+" not run"
		case b == 0:
			t.Measured, t.Verdict = fmt.Sprintf("%s %.1f / %s 0", aName, a, bName), "skipped: "+bName+" figure is 0"
		default:
			x := a / b
			t.Measured = fmt.Sprintf("%.1f / %.1f = %.2fx", a, b, x)
			t.Verdict = verdict(x <= limit, x/limit-1)
		}
		out = append(out, t)
	}
	lat := func(s *Subject, rate int, f func(*Latency) float64) float64 {
		if !slices.Contains(r.Sizes.Rates, rate) {
			return notMeasured
		}
		if l := s.at(rate); l != nil {
			return f(l)
		}
		return -1
	}
	p50 := func(l *Latency) float64 { return l.P50 }
	p99 := func(l *Latency) float64 { return l.P99 }
	cpu := func(l *Latency) float64 { return l.CPUUsPerEvent }
	for _, rate := range []int{100, 1000} {
		atMost(fmt.Sprintf("P50 at %d/s vs original", rate), lat(ours, rate, p50), lat(orig, rate, p50), "ours", "original", 0.9)
		atMost(fmt.Sprintf("P50 at %d/s vs relay", rate), lat(ours, rate, p50), lat(relay, rate, p50), "ours", "relay", 1.1)
	}
	atMost("P99 at 1000/s vs original", lat(ours, 1000, p99), lat(orig, 1000, p99), "ours", "original", 0.75)
	for _, c := range []struct {
		rate  int
		limit float64
	}{{100, 1}, {1000, 1}, {10000, 0.5}} {
		atMost(fmt.Sprintf("CPU/event at %d/s vs original", c.rate), lat(ours, c.rate, cpu), lat(orig, c.rate, cpu), "ours", "original", c.limit)
	}
	if t := (Target{Figure: "backlog drain vs original", Limit: ">= 20x"}); ours == nil || orig == nil {
		t.Measured, t.Verdict = "-", "skipped: original not run"
		out = append(out, t)
	} else if !ours.Backlog.Complete || !orig.Backlog.Complete || orig.Backlog.PerSec <= 0 {
		t.Measured = fmt.Sprintf("complete: ours %v, original %v", ours.Backlog.Complete, orig.Backlog.Complete)
		t.Verdict = verdict(ours.Backlog.Complete && !orig.Backlog.Complete, 0)
		out = append(out, t)
	} else {
		x := ours.Backlog.PerSec / orig.Backlog.PerSec
		t.Measured = fmt.Sprintf("%.0f / %.0f events/s = %.1fx", ours.Backlog.PerSec, orig.Backlog.PerSec, x)
		t.Verdict = verdict(x >= 20, 20/x-1)
		out = append(out, t)
	}
	if ours != nil {
		b := ours.Burst
		out = append(out, Target{Figure: fmt.Sprintf("burst of %d changes: overruns", b.Changes), Limit: "0",
			Measured: fmt.Sprintf("%d overruns, final state correct %v", b.Overruns, b.FinalStateGood),
			Verdict:  verdict(b.Overruns == 0 && b.FinalStateGood, float64(b.Overruns))})
	}
	for _, c := range []struct {
		ports int
		limit int64
	}{{64, 20 << 20}, {4096, 48 << 20}} {
		t := Target{Figure: fmt.Sprintf("RSS at %d ports", c.ports), Limit: fmt.Sprintf("<= %.0f MiB", mib(c.limit)), Measured: "-",
			Verdict: "not run: -e2e.scale has no " + fmt.Sprint(c.ports)}
		for _, sc := range r.Scale {
			if sc.Subject == "portsyncd" && sc.Ports == c.ports {
				t.Measured = fmt.Sprintf("%.1f MiB (peak %.1f)", mib(sc.RSS), mib(sc.PeakRSS))
				t.Verdict = verdict(sc.RSS <= c.limit, float64(sc.RSS)/float64(c.limit)-1)
			}
		}
		out = append(out, t)
	}
	return out
}

// verdict says met, or missed and by how much: for a ratio target the
// margin is how far past the limit, as a fraction of it; for a count, the
// count.
func verdict(met bool, by float64) string {
	switch {
	case met:
		return "met"
	case by > 0 && by < 10:
		return fmt.Sprintf("missed by %.0f%%", 100*by)
	case by >= 10:
		return fmt.Sprintf("missed by %.0f", by)
	default:
		return "missed"
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
		series := []Latency{r.Ping, r.Netlink}
		for _, s := range r.Subjects {
			series = append(series, s.Latency...)
		}
		if err := os.WriteFile(svgPath, []byte(cdfSVG(series)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// check fails the run when a figure is missing: the benchmark prints, people
// judge, but a run that measured nothing must not pass. Only the original's
// figures may be absent, and only when it was not asked for.
func (r *Results) check(t *testing.T, wantOriginal bool) {
	for _, l := range []Latency{r.Ping, r.Netlink} {
		if l.N == 0 || l.P50 <= 0 {
			t.Errorf("%s: no samples", l.Name)
		}
	}
	want := []string{"portsyncd", "relay"}
	if wantOriginal {
		want = append(want, "original")
	} else if r.OriginalSkipped == "" || r.subject("original") != nil {
		t.Errorf("original neither run nor skipped")
	}
	for _, name := range want {
		s := r.subject(name)
		if s == nil {
			t.Errorf("%s: not measured", name)
			continue
		}
		if len(s.Latency) != len(r.Sizes.Rates) {
			t.Errorf("%s: %d latency rows for %d rates", name, len(s.Latency), len(r.Sizes.Rates))
		}
		for _, l := range s.Latency {
			if l.N == 0 || l.P50 <= 0 || l.CtxSwitchesPerEvent <= 0 {
				t.Errorf("%s: no samples or no context switches", l.Name)
			}
			if name == "portsyncd" && (l.AllocsPerEvent <= 0 || l.Superseded < 0) {
				t.Errorf("%s: allocations or superseded changes missing: %+v", l.Name, l)
			}
		}
		if s.Burst.Changes == 0 || s.Sustained.Generated == 0 || s.Sustained.RSSSamples == 0 || s.Sustained.CtxSwitchesPerEvent <= 0 || s.PeakRSS <= 0 {
			t.Errorf("%s: burst, sustained or memory figures missing: %+v %+v %d", name, s.Burst, s.Sustained, s.PeakRSS)
		}
		if name == "portsyncd" && (!s.Backlog.Complete || s.Backlog.PerSec <= 0 || s.Burst.Overruns < 0 || s.Sustained.Processed < 0) {
			t.Errorf("portsyncd: backlog or counters missing: %+v %+v %+v", s.Backlog, s.Burst, s.Sustained)
		}
	}
	if len(r.Subjects) > 0 && len(r.Subjects[0].Latency) > 0 && r.Subjects[0].Latency[0].Lost != 0 {
		l := r.Subjects[0].Latency[0]
		t.Errorf("%s: %d changes never reached STATE_DB", l.Name, l.Lost)
	}
	if r.GeneratorAlonePerSec <= 0 || len(r.Scale) == 0 {
		t.Errorf("generator or scale figures missing: %v %+v", r.GeneratorAlonePerSec, r.Scale)
	}
	for _, sc := range r.Scale {
		if sc.RSS <= 0 || sc.InitDoneSeconds <= 0 {
			t.Errorf("scale %d ports, %s: figures missing: %+v", sc.Ports, sc.Subject, sc)
		}
	}
	if len(r.Targets) == 0 {
		t.Errorf("no targets judged")
	}
	for _, tg := range r.Targets {
		skippable := strings.HasPrefix(tg.Verdict, "skipped: original") && !wantOriginal ||
			strings.HasPrefix(tg.Verdict, "not run: -e2e.scale") || strings.HasPrefix(tg.Verdict, "not run: -e2e.rates")
		if !skippable && !strings.HasPrefix(tg.Verdict, "met") && !strings.HasPrefix(tg.Verdict, "missed") {
			t.Errorf("target %q: no verdict (%q)", tg.Figure, tg.Verdict)
		}
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
