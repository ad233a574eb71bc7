package e2ebench

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/actors/netlinkrx"
	"github.com/sonic-go/portsyncd/messages"
)

// latencyRun is the outcome of changes offered at a fixed rate.
type latencyRun struct {
	Lat             []time.Duration
	Sent, Lost      int
	Skipped         int // next port still in flight: not sent
	AchievedPerSec  float64
	DaemonCPUPerSec float64 // CPU seconds per second, when measured on the daemon
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
	time.Sleep(2 * time.Second) // stragglers
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

// relay is the floor a daemon can reach here: receive link updates, HSET
// the four fields, one round trip per event, no actors, no checks.
func (w *world) relay() (stop func()) {
	c := w.dial(true)
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		d := netlinkrx.NewDecoder()
		for {
			msgs, err := c.Receive()
			if err != nil {
				return
			}
			for _, m := range msgs {
				ev, err := d.Decode(uint16(m.Header.Type), m.Data)
				if err != nil || ev.Kind != messages.NewLink {
					continue
				}
				w.state.HSet(ctx, "PORT_TABLE|"+ev.Name, "state", "ok",
					"netdev_oper_status", upDown(ev.OperUp()), "admin_status", upDown(ev.AdminUp()), "mtu", ev.MTU)
			}
		}
	}()
	return func() {
		c.Close()
		<-done
	}
}

func upDown(b bool) string {
	if b {
		return "up"
	}
	return "down"
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

// flood sends MTU changes as fast as the kernel acknowledges them for d and
// returns how many, and each port's last MTU.
func (w *world) flood(c *netlink.Conn, d time.Duration, max int) (int, map[string]uint32) {
	w.t.Helper()
	final := make(map[string]uint32)
	start := time.Now()
	n := 0
	for ; (max == 0 || n < max) && (d == 0 || time.Since(start) < d); n++ {
		name := w.ports[n%len(w.ports)]
		final[name] = w.toggle(c, name)
	}
	return n, final
}
