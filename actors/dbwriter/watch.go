package dbwriter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/sonicdb"
)

// portTableEvents gathers the keyspace events of APPL_DB PORT_TABLE that the
// watch goroutine received and its actor has not taken yet: per port, the
// newest says whether the entry was removed (del, expired, evicted, renamed
// away). However fast events come, one portTableNews at a time waits in the
// mailbox, and the set is bounded by the keys of the table.
type portTableEvents struct {
	mu     sync.Mutex
	byPort map[string]bool
	posted bool
}

// add records an event; it reports whether the actor is to be told.
func (e *portTableEvents) add(port string, gone bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.byPort == nil {
		e.byPort = make(map[string]bool)
	}
	e.byPort[port] = gone
	tell := !e.posted
	e.posted = true
	return tell
}

// take hands the actor what was gathered.
func (e *portTableEvents) take() map[string]bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	got := e.byPort
	e.byPort, e.posted = nil, false
	return got
}

// portTableNews tells the actor that portTableEvents has events.
type portTableNews struct{ owner *stateWriter }

// watchState is sent by the watch goroutine to its actor when keyspace
// events start or stop coming.
type watchState struct {
	owner  *stateWriter
	on     bool
	reason string
}

func (*portTableNews) Essential() {}
func (*watchState) Essential()    {}

// removals are the keyspace events after which the key may not exist. hdel
// is one: it may have removed the last field (Redis then also sends del,
// but forgetting twice costs only an EXISTS).
var removals = map[string]bool{"del": true, "expired": true, "evicted": true, "rename_from": true, "hdel": true}

// keyspaceEnabled reports whether the server sends the keyspace events the
// watch needs: K (keyspace channel) with h (hset, hdel) and g (del), or A.
// It reads the setting and never changes it: that is the operator's (SONiC
// configures "AKE").
func keyspaceEnabled(ctx context.Context, appl *sonicdb.DB) (bool, error) {
	cfg, err := appl.Client.ConfigGet(ctx, "notify-keyspace-events").Result()
	if err != nil {
		return false, fmt.Errorf("dbwriter: read notify-keyspace-events: %w", err)
	}
	v := cfg["notify-keyspace-events"]
	return strings.Contains(v, "K") && (strings.Contains(v, "A") || strings.Contains(v, "h") && strings.Contains(v, "g")), nil
}

// watchLoop is the watch goroutine: it follows APPL_DB PORT_TABLE by
// keyspace events and tells its actor each one, and whether events come at
// all. A lost subscription is reported, then made again (the actor checks
// everything it holds, since events may have been missed). Without
// notifications it asks the server again every recheck interval.
func (w *stateWriter) watchLoop(ctx context.Context, appl *sonicdb.DB) {
	prefix := "__keyspace@" + strconv.Itoa(appl.ID) + "__:" + appl.Key(sonicdb.PortTable, "")
	report := func(on bool, reason string) { w.root.Send(w.self, &watchState{owner: w, on: on, reason: reason}) }
	backoff := minRetry
	for ctx.Err() == nil {
		wait := w.recheck()
		err := w.watchOnce(ctx, appl, prefix, func() {
			report(true, "")
			backoff = minRetry
		})
		if ctx.Err() != nil {
			return
		}
		if !errors.Is(err, errNotifyOff) {
			wait = backoff
			backoff = min(backoff*2, max(w.cfg.MaxBackoff, minRetry))
		}
		report(false, err.Error())
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
	}
}

var errNotifyOff = errors.New("notify-keyspace-events lacks K with A or h and g")

// watchOnce subscribes and forwards events until the subscription fails;
// subscribed runs once the server confirmed it.
func (w *stateWriter) watchOnce(ctx context.Context, appl *sonicdb.DB, prefix string, subscribed func()) error {
	on, err := keyspaceEnabled(ctx, appl)
	if err != nil {
		return err
	}
	if !on {
		return errNotifyOff
	}
	ps := appl.Client.PSubscribe(ctx, sonicdb.EscapeGlob(prefix)+"*")
	defer ps.Close()
	// A blocked read does not see ctx: closing the subscription ends it.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	if _, err := ps.Receive(ctx); err != nil {
		return fmt.Errorf("dbwriter: subscribe to APPL_DB port table events: %w", err)
	}
	subscribed()
	for {
		// The setting may be switched off while subscribed, which ends the
		// events without a word: a quiet spell reads it again.
		msg, err := ps.ReceiveTimeout(ctx, settingEvery)
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() {
			on, err := keyspaceEnabled(ctx, appl)
			if err != nil {
				return err
			}
			if !on {
				return errNotifyOff
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("dbwriter: APPL_DB port table events: %w", err)
		}
		m, ok := msg.(*redis.Message)
		if !ok {
			continue
		}
		port, ok := strings.CutPrefix(m.Channel, prefix)
		if !ok {
			continue
		}
		if w.events.add(port, removals[m.Payload]) {
			w.root.Send(w.self, &portTableNews{owner: w})
		}
	}
}

// settingEvery is how long a subscribed watcher goes without an event
// before it reads notify-keyspace-events again.
const settingEvery = 3 * time.Second
