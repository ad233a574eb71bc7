package e2ebench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/actors/netlinkrx"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/test/harness"
)

// latencyRun is the outcome of changes offered at a fixed rate.
type latencyRun struct {
	Lat            []time.Duration
	Sent, Lost     int
	Skipped        int // next port still in flight: not sent
	AchievedPerSec float64
}

// measureLatency offers MTU changes at rate per second for d, ports in
// round robin with one change in flight each, and times each from before its
// RTM_SETLINK to the keyspace notification of the HSET of its STATE_DB key.
func (w *world) measureLatency(rate int, d time.Duration) latencyRun {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ps := w.state.PSubscribe(ctx, "__keyspace@6__:PORT_TABLE|*")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		w.t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		sent = make(map[string]time.Time)
		run  latencyRun
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range ps.Channel(redis.WithChannelSize(1 << 16)) {
			now := time.Now()
			if m.Payload != "hset" {
				continue
			}
			name := strings.TrimPrefix(m.Channel, "__keyspace@6__:PORT_TABLE|")
			mu.Lock()
			if t0, ok := sent[name]; ok {
				run.Lat = append(run.Lat, now.Sub(t0))
				delete(sent, name)
			}
			mu.Unlock()
		}
	}()

	c := w.dial(false)
	start := time.Now()
	next := 0
	tick := time.NewTicker(time.Millisecond)
	for now := range tick.C {
		elapsed := now.Sub(start)
		if elapsed >= d {
			break
		}
		for due := int(elapsed.Seconds() * float64(rate)); run.Sent+run.Skipped < due; {
			i := next % len(w.ports)
			next++
			name := w.ports[i]
			mu.Lock()
			_, busy := sent[name]
			if !busy {
				sent[name] = time.Now()
			}
			mu.Unlock()
			if busy {
				run.Skipped++
				continue
			}
			w.toggle(c, name)
			run.Sent++
		}
	}
	tick.Stop()
	run.AchievedPerSec = float64(run.Sent) / time.Since(start).Seconds()
	// Stragglers: up to 2 s for the changes still in flight.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		inFlight := len(sent)
		mu.Unlock()
		if inFlight == 0 {
			break
		}
	}
	mu.Lock()
	run.Lost = len(sent)
	lat := run.Lat
	mu.Unlock()
	cancel()
	ps.Close()
	<-done
	// The first tenth is warm-up.
	run.Lat = lat[len(lat)/10:]
	return run
}

// measurePing times PING round trips over the daemon's kind of socket.
func (w *world) measurePing(n int) []time.Duration {
	ctx := context.Background()
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := w.state.Ping(ctx).Err(); err != nil {
			w.t.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	return lat
}

// measureNetlink times the kernel alone: from before an RTM_SETLINK to a
// plain listener socket receiving the RTM_NEWLINK it causes.
func (w *world) measureNetlink(n int) []time.Duration {
	w.t.Helper()
	listen, gen := w.dial(true), w.dial(false)
	got := make(chan messages.LinkEvent, 64)
	go func() {
		d := netlinkrx.NewDecoder()
		for {
			msgs, err := listen.Receive()
			if err != nil {
				close(got)
				return
			}
			for _, m := range msgs {
				if ev, err := d.Decode(uint16(m.Header.Type), m.Data); err == nil {
					got <- ev
				}
			}
		}
	}()
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		name := w.ports[i%len(w.ports)]
		t0 := time.Now()
		mtu := w.toggle(gen, name)
	wait:
		for {
			select {
			case ev := <-got:
				if ev.Name == name && ev.MTU == mtu {
					lat = append(lat, time.Since(t0))
					break wait
				}
			case <-time.After(5 * time.Second):
				w.t.Fatalf("no RTM_NEWLINK for %s mtu %d", name, mtu)
			}
		}
	}
	listen.Close()
	for range got {
	}
	return lat
}

// flood sends n MTU changes, ports in round robin, as fast as the kernel
// acknowledges them, then a marker round (see markerRound). It returns the
// number of changes including the markers, the final MTUs and the time the
// n changes took.
func (w *world) flood(n int) (int, map[string]uint32, time.Duration) {
	w.t.Helper()
	start := time.Now()
	for i := 0; i < n; i++ {
		w.toggle(w.gen, w.ports[i%len(w.ports)])
	}
	took := time.Since(start)
	return n + len(w.ports), w.markerRound(), took
}

// latencyRow measures s at rate for d (see measureLatency), with its CPU
// time, context switches and kernel drops over the run and, for
// portsyncd, its heap allocations and coalesced writes.
func (w *world) latencyRow(s *subject, rate int, d time.Duration) Latency {
	w.t.Helper()
	var c0 map[string]int
	if s.ours {
		c0 = s.counters()
	}
	p0, t0 := s.sample(), time.Now()
	run := w.measureLatency(rate, d)
	p1, elapsed := s.sample(), time.Since(t0)
	l := latencyResult(fmt.Sprintf("%s %d/s", s.name, rate), rate, run)
	l.Subject = s.name
	l.CPUPercent = 100 * (p1.CPU - p0.CPU).Seconds() / elapsed.Seconds()
	l.CPUUsPerEvent = perEvent(float64((p1.CPU - p0.CPU).Microseconds()), run.Sent)
	l.CtxSwitchesPerEvent = perEvent(float64(p1.CtxSw-p0.CtxSw), run.Sent)
	l.KernelDrops = p1.Drops - p0.Drops
	l.AllocsPerEvent, l.Superseded = -1, -1
	if s.ours {
		c1 := s.counters()
		l.AllocsPerEvent = perEvent(float64(c1["heap_allocs"]-c0["heap_allocs"]-w.dumpAllocs), run.Sent)
		l.Superseded = c1["coalesced"] - c0["coalesced"]
	}
	return l
}

func perEvent(total float64, events int) float64 {
	if events == 0 {
		return 0
	}
	return total / float64(events)
}

// burst sends n changes back to back (then a marker round) to s running
// with its default receive buffer, and waits for the final state.
func (w *world) burst(s *subject, n int) Burst {
	w.t.Helper()
	var c0 map[string]int
	if s.ours {
		c0 = s.counters()
	}
	p0 := s.sample()
	k, final, took := w.flood(n)
	reached := w.waitMTUs(final, time.Minute)
	b := Burst{Changes: k, PerSec: float64(n) / took.Seconds(), Overruns: -1, KernelDrops: s.sample().Drops - p0.Drops,
		FinalStateGood: reached && harness.StateDiff(w.t, w.ns, w.state, w.ports) == ""}
	if s.ours {
		b.Overruns = s.counters()["overruns"] - c0["overruns"]
	}
	return b
}

// backlog stops s, queues n changes (then a marker round) in its socket,
// continues it and times how long until STATE_DB shows the final state.
func (w *world) backlog(s *subject, n int) Backlog {
	w.t.Helper()
	var c0 map[string]int
	if s.ours {
		c0 = s.counters()
	}
	s.signal(syscall.SIGSTOP)
	p0 := s.sample()
	k, final, _ := w.flood(n)
	queued := s.sample()
	s.signal(syscall.SIGCONT)
	t0 := time.Now()
	reached := w.waitMTUs(final, time.Minute)
	elapsed := time.Since(t0)
	b := Backlog{Events: k, Overruns: -1, KernelDrops: s.sample().Drops - p0.Drops, QueuedBytes: queued.Queued, Complete: reached}
	if reached {
		b.Seconds, b.PerSec = elapsed.Seconds(), float64(k)/elapsed.Seconds()
	}
	if s.ours {
		b.Overruns = s.counters()["overruns"] - c0["overruns"]
	}
	return b
}

// sustained sends n changes at the generator's maximum while sampling s's
// resident memory, then waits for the final state.
func (w *world) sustained(s *subject, n int) Sustained {
	w.t.Helper()
	var c0 map[string]int
	if s.ours {
		c0 = s.counters()
	}
	p0 := s.sample()
	var rss []int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			if p, err := sampleProc(s.pid()); err == nil {
				rss = append(rss, p.RSS)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	k, final, took := w.flood(n)
	reached := w.waitMTUs(final, 2*time.Minute)
	close(stop)
	<-done
	p1 := s.sample()
	r := Sustained{
		Generated: k, PerSec: float64(n) / took.Seconds(), Processed: -1, Overruns: -1,
		KernelDrops:         p1.Drops - p0.Drops,
		CPUUsPerEvent:       perEvent(float64((p1.CPU - p0.CPU).Microseconds()), k),
		CtxSwitchesPerEvent: perEvent(float64(p1.CtxSw-p0.CtxSw), k),
		AllocsPerEvent:      -1,
		FinalStateGood:      reached && harness.StateDiff(w.t, w.ns, w.state, w.ports) == "",
		RSSSamples:          len(rss),
	}
	if len(rss) > 0 {
		r.RSSFirst, r.RSSLast, r.RSSMax = rss[0], rss[len(rss)-1], slices.Max(rss)
	}
	if s.ours {
		c1 := s.counters()
		r.Processed = c1["events"] + c1["unchanged"] - c0["events"] - c0["unchanged"]
		r.Overruns = c1["overruns"] - c0["overruns"]
		r.AllocsPerEvent = perEvent(float64(c1["heap_allocs"]-c0["heap_allocs"]-w.dumpAllocs), k)
	}
	return r
}
