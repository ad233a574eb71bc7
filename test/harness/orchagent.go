package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// PortTable is the APPL_DB table that Orchagent consumes.
const PortTable = "PORT_TABLE"

// popScript pops up to ARGV[1] keys of the table ARGV[2] in one atomic
// step, the way a SONiC ConsumerStateTable does:
//
//	KEYS[1] = <table>_KEY_SET  (keys with staged changes)
//	KEYS[2] = <table>_DEL_SET  (keys to delete before applying staged fields)
//
// For each popped key k: if k is in the delete set it is removed from it
// and <table>:k is deleted; then every field of _<table>:k is merged into
// <table>:k and _<table>:k is deleted. It returns a flat array
// {k1, {f, v, ...}, k2, {...}, ...} in pop order.
var popScript = redis.NewScript(`
local table_name = ARGV[2]
local keys = redis.call('SPOP', KEYS[1], tonumber(ARGV[1]))
local out = {}
if not keys then
  return out
end
for _, k in ipairs(keys) do
  local main = table_name .. ':' .. k
  local staged = '_' .. table_name .. ':' .. k
  if redis.call('SREM', KEYS[2], k) == 1 then
    redis.call('DEL', main)
  end
  local fv = redis.call('HGETALL', staged)
  for i = 1, #fv, 2 do
    redis.call('HSET', main, fv[i], fv[i + 1])
  end
  redis.call('DEL', staged)
  out[#out + 1] = k
  out[#out + 1] = fv
end
return out
`)

// Entry is one key popped by Orchagent with the fields that were staged
// for it. Fields is never nil; it is empty for a pure delete.
type Entry struct {
	Key    string
	Fields map[string]string
}

// Orchagent plays SONiC's orchagent as the consumer of PORT_TABLE in
// APPL_DB (the producer/consumer state table protocol).
type Orchagent struct {
	appl *redis.Client

	mu      sync.Mutex
	popped  []Entry
	running bool
	lastErr error
}

// NewOrchagent returns a consumer of PORT_TABLE on appl, which must be a
// client of APPL_DB (db 0).
func NewOrchagent(t testing.TB, appl *redis.Client) *Orchagent {
	t.Helper()
	if appl == nil {
		t.Fatalf("harness: NewOrchagent: nil client")
	}
	return &Orchagent{appl: appl}
}

// Pop pops up to max keys in one atomic step (a Lua script run with
// EVALSHA, falling back to EVAL) and returns them in pop order. Entries
// popped with Pop are not recorded for Popped.
func (o *Orchagent) Pop(ctx context.Context, max int) ([]Entry, error) {
	if max < 1 {
		return nil, fmt.Errorf("harness: Pop: max must be positive, got %d", max)
	}
	res, err := popScript.Run(ctx, o.appl,
		[]string{PortTable + "_KEY_SET", PortTable + "_DEL_SET"},
		max, PortTable).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("harness: popping %s: %w", PortTable, err)
	}
	if len(res)%2 != 0 {
		return nil, fmt.Errorf("harness: popping %s: odd reply length %d", PortTable, len(res))
	}
	entries := make([]Entry, 0, len(res)/2)
	for i := 0; i < len(res); i += 2 {
		key, ok := res[i].(string)
		if !ok {
			return nil, fmt.Errorf("harness: popping %s: key of type %T", PortTable, res[i])
		}
		fv, ok := res[i+1].([]any)
		if !ok || len(fv)%2 != 0 {
			return nil, fmt.Errorf("harness: popping %s: bad fields %#v for %q", PortTable, res[i+1], key)
		}
		e := Entry{Key: key, Fields: make(map[string]string, len(fv)/2)}
		for j := 0; j < len(fv); j += 2 {
			f, ok1 := fv[j].(string)
			v, ok2 := fv[j+1].(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("harness: popping %s: non-string field in %#v", PortTable, fv)
			}
			e.Fields[f] = v
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// Channel returns the channel the producer publishes on.
func (o *Orchagent) Channel() string {
	return PortTable + "_CHANNEL@" + strconv.Itoa(o.appl.Options().DB)
}

// Run starts a background consumer: it subscribes to PORT_TABLE_CHANNEL@0,
// also polls every 20 ms, pops everything that is staged and records it
// for Popped. It returns once the subscription is confirmed. The consumer
// is stopped, and waited for, on test cleanup. Errors while popping are
// logged when they first occur.
func (o *Orchagent) Run(t testing.TB) {
	t.Helper()
	o.mu.Lock()
	if o.running {
		o.mu.Unlock()
		t.Fatalf("harness: Orchagent.Run called twice")
	}
	o.running = true
	o.mu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	ps := o.appl.Subscribe(ctx, o.Channel())
	subCtx, subCancel := context.WithTimeout(ctx, 10*time.Second)
	_, err := ps.Receive(subCtx)
	subCancel()
	if err != nil {
		cancel()
		_ = ps.Close()
		t.Fatalf("harness: subscribing to %s: %v", o.Channel(), err)
	}
	msgs := ps.Channel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(pollInterval)
		defer ticker.Stop()
		for {
			o.drain(ctx, t)
			select {
			case <-ctx.Done():
				return
			case <-msgs:
			case <-ticker.C:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = ps.Close()
	})
}

// drain pops until nothing is left and records the entries.
func (o *Orchagent) drain(ctx context.Context, t testing.TB) {
	for ctx.Err() == nil {
		entries, err := o.Pop(ctx, 128)
		o.mu.Lock()
		if err != nil {
			if ctx.Err() == nil && (o.lastErr == nil || o.lastErr.Error() != err.Error()) {
				t.Logf("harness: orchagent: %v", err)
			}
			o.lastErr = err
			o.mu.Unlock()
			return
		}
		o.lastErr = nil
		o.popped = append(o.popped, entries...)
		o.mu.Unlock()
		if len(entries) == 0 {
			return
		}
	}
}

// Popped returns a copy of all entries popped by Run so far, in order.
func (o *Orchagent) Popped() []Entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Entry, len(o.popped))
	for i, e := range o.popped {
		out[i] = Entry{Key: e.Key, Fields: maps.Clone(e.Fields)}
	}
	return out
}
