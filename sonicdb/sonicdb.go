package sonicdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/sonic-go/portsyncd/backoff"
	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/sonic"
)

// ClientName is the name every portsyncd connection gives itself (CLIENT
// SETNAME).
const ClientName = "portsyncd"

// DB is one SONiC database: its client and where its keys go.
type DB struct {
	dbconfig.Database
	Client *redis.Client
	runID  *RunID
}

// Restarted reports, once, that the database's Redis server was found to have
// restarted (a new run_id) since the last call.
func (db *DB) Restarted() bool { return db.runID.changed.Swap(false) }

// DBs are the three databases portsyncd uses.
type DBs struct {
	Appl, Config, State *DB
}

// Open makes the clients for APPL_DB, CONFIG_DB and STATE_DB; it does not
// connect (see WaitReady).
func Open(cfg *dbconfig.Config) (*DBs, error) {
	var dbs DBs
	for _, d := range []struct {
		name string
		dst  **DB
	}{{"APPL_DB", &dbs.Appl}, {"CONFIG_DB", &dbs.Config}, {"STATE_DB", &dbs.State}} {
		db, err := cfg.Database(d.name)
		if err != nil {
			return nil, err
		}
		*d.dst = newDB(db)
	}
	return &dbs, nil
}

func newDB(db dbconfig.Database) *DB {
	opts := db.RedisOptions()
	rid := &RunID{}
	opts.OnConnect = rid.onConnect
	opts.Dialer = dialRaw
	// The writer owns retries and backoff; go-redis must not replay commands
	// behind its back.
	opts.MaxRetries = -1
	opts.DialTimeout = time.Second
	opts.ReadTimeout = 2 * time.Second
	opts.WriteTimeout = 2 * time.Second
	opts.PoolSize = 4
	// A caller's deadline bounds the I/O too: dbwriter gives each batch one,
	// so that a stalled server is seen as down within it.
	opts.ContextTimeoutEnabled = true
	opts.DisableIdentity = true
	// RESP2, as hiredis speaks it: HGETALL's reply is then a flat array in
	// the server's order (RESP3 makes it a map, which go-redis reads into a
	// Go map), and LoadPorts keeps CONFIG_DB's field order.
	opts.Protocol = 2
	// The name only shows in CLIENT LIST (operators, and tests telling our
	// connections apart); no SONiC component reads it.
	opts.ClientName = ClientName
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return &DB{Database: db, Client: redis.NewClient(opts), runID: rid}
}

// Close closes every client.
func (d *DBs) Close() {
	for _, db := range []*DB{d.Appl, d.Config, d.State} {
		db.Client.Close()
	}
}

// WaitReady pings each database until it answers, backing off from 100 ms
// (or max, when smaller) up to max between attempts and logging each failed
// attempt; max must be above 0. It returns early
// when ctx ends, when a server refuses portsyncd for good (see ErrRefused):
// waiting would not change a password or an ACL, and when a server has no
// database of the configured number (ErrNoDatabase).
func (d *DBs) WaitReady(ctx context.Context, log *slog.Logger, max time.Duration) error {
	for _, db := range []*DB{d.Appl, d.Config, d.State} {
		retry := backoff.New(min(100*time.Millisecond, max), max)
		for attempt := 1; ; attempt++ {
			err := db.Client.Ping(ctx).Err()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("sonicdb: connect %s: %w", db.Name, ctx.Err())
			}
			if refused(err) {
				return fmt.Errorf("sonicdb: %s at %s: %w: %w", db.Name, addr(db), ErrRefused, err)
			}
			if noDatabase(err) {
				return fmt.Errorf("sonicdb: %s: id %d at %s: %w: %w", db.Name, db.ID, addr(db), ErrNoDatabase, err)
			}
			wait := retry.Next()
			log.Warn("redis not reachable", "db", db.Name, "addr", addr(db), "attempt", attempt, "retry_in", wait, "err", explainDial(db, err))
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("sonicdb: connect %s: %w", db.Name, ctx.Err())
			}
		}
	}
	return nil
}

// ErrRefused marks a Redis server that answered but refuses portsyncd for
// good: authentication required or wrong (NOAUTH, WRONGPASS), or a user
// whose ACL denies a command portsyncd needs (NOPERM).
var ErrRefused = errors.New("refused by redis (permanent: authentication or ACL), not retried")

// refusedPrefixes are the error replies of a permanent refusal.
var refusedPrefixes = []string{"NOAUTH ", "WRONGPASS ", "NOPERM "}

// refused reports whether err is, or wraps, a permanent refusal by the
// server. go-redis returns them as error replies, also when they come from
// the commands it sends on connect (HELLO, AUTH, SELECT) or our OnConnect.
func refused(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	for _, p := range refusedPrefixes {
		if strings.HasPrefix(re.Error(), p) || strings.Contains(err.Error(), ": "+p) {
			return true
		}
	}
	return false
}

// explainDial names what is wrong with a unix socket path the kernel only
// answers "connection refused" for: something that is not a socket.
func explainDial(db *DB, err error) error {
	p := db.Instance.UnixSocketPath
	if p == "" {
		return err
	}
	fi, serr := os.Stat(p)
	if serr != nil || fi.Mode()&fs.ModeSocket != 0 {
		return err
	}
	kind := "a regular file"
	if fi.IsDir() {
		kind = "a directory"
	} else if !fi.Mode().IsRegular() {
		kind = "not a socket: " + fi.Mode().Type().String()
	}
	return fmt.Errorf("unix_socket_path %s is not a socket (%s): %w", p, kind, err)
}

// Addr is where the database's server is reached: its unix socket, else
// host:port.
func (db *DB) Addr() string { return addr(db) }

func addr(db *DB) string {
	if db.Instance.UnixSocketPath != "" {
		return db.Instance.UnixSocketPath
	}
	return fmt.Sprintf("%s:%d", db.Instance.Hostname, db.Instance.Port)
}

// RunID remembers a Redis server's run_id, read on every new connection, so
// that a restarted (and so emptied) server is noticed.
type RunID struct {
	mu      sync.Mutex
	last    string
	changed atomic.Bool
}

func (r *RunID) onConnect(ctx context.Context, cn *redis.Conn) error {
	info, err := cn.Info(ctx, "server").Result()
	if err != nil {
		return fmt.Errorf("sonicdb: read run_id: %w", err)
	}
	id := parseRunID(info)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last != "" && id != r.last {
		r.changed.Store(true)
	}
	r.last = id
	return nil
}

func parseRunID(info string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, "run_id:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// keyError says which key of which database a start-up read failed on, and
// for WRONGTYPE which type the key has instead of a hash. A refusal (an ACL
// that allows PING but not what start-up needs) matches ErrRefused.
func keyError(ctx context.Context, db *DB, key string, err error) error {
	if refused(err) {
		return fmt.Errorf("%s at %s, key %s: %w: %w", db.Name, addr(db), key, ErrRefused, err)
	}
	if !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		return fmt.Errorf("%s %s: %w", db.Name, key, err)
	}
	typ, terr := db.Client.Type(ctx, key).Result()
	if terr != nil {
		typ = "value of another type"
	}
	return fmt.Errorf("%s %s is a %s, want a hash: %w", db.Name, key, typ, err)
}

// IsRedisError reports whether err is an error reply from the server (a
// rejected command), as opposed to a failed connection.
func IsRedisError(err error) bool {
	var re redis.Error
	return err != nil && errors.As(err, &re) && !errors.Is(err, redis.ErrClosed)
}

// SwitchType reads CONFIG_DB DEVICE_METADATA|localhost switch_type; absent
// means "switch".
func SwitchType(ctx context.Context, cfg *DB) (string, error) {
	key := cfg.Key(sonic.DeviceMetadata, sonic.DeviceMetadataKey)
	v, err := cfg.Client.HGet(ctx, key, sonic.FieldSwitchType).Result()
	if errors.Is(err, redis.Nil) {
		return sonic.DefaultSwitchType, nil
	}
	if err != nil {
		return "", fmt.Errorf("sonicdb: read switch_type: %w", keyError(ctx, cfg, key, err))
	}
	return v, nil
}

// WarmStart performs the warm-start check of SONiC's start-up: warm if
// WARM_RESTART_ENABLE_TABLE|system or |swss has enable=true. It writes
// WARM_RESTART_TABLE|portsyncd restore_count (0 when cold or never restored,
// incremented when warm) and returns whether this start is warm and the count
// written.
func WarmStart(ctx context.Context, state *DB) (warm bool, restoreCount int64, err error) {
	for _, scope := range sonic.WarmEnableScopes() {
		ekey := state.Key(sonic.WarmEnableTable, scope)
		v, err := state.Client.HGet(ctx, ekey, sonic.FieldEnable).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return false, 0, fmt.Errorf("sonicdb: read warm restart enable: %w", keyError(ctx, state, ekey, err))
		}
		if v == sonic.Enabled {
			warm = true
		}
	}
	key := RestoreCountKey(state)
	if warm {
		err := state.Client.HGet(ctx, key, sonic.FieldRestoreCount).Err()
		switch {
		case errors.Is(err, redis.Nil):
			warm = false // never restored before: a cold start that writes 0
		case err != nil:
			return false, 0, fmt.Errorf("sonicdb: read restore_count: %w", keyError(ctx, state, key, err))
		default:
			n, err := state.Client.HIncrBy(ctx, key, sonic.FieldRestoreCount, 1).Result()
			if err != nil {
				return false, 0, fmt.Errorf("sonicdb: increment restore_count: %w", keyError(ctx, state, key, err))
			}
			return true, n, nil
		}
	}
	if err := state.Client.HSet(ctx, key, sonic.FieldRestoreCount, "0").Err(); err != nil {
		return false, 0, fmt.Errorf("sonicdb: write restore_count: %w", keyError(ctx, state, key, err))
	}
	return false, 0, nil
}

// RestoreCountKey is the STATE_DB key holding restore_count.
func RestoreCountKey(state *DB) string { return state.Key(sonic.WarmRestartTable, sonic.DaemonName) }

// Port is one CONFIG_DB PORT entry: its name and its fields as field, value
// pairs, in the order HGETALL returned them (the original stages them in that
// order too).
type Port struct {
	Name   string
	Fields []string
}

// LoadPorts reads every CONFIG_DB PORT|<name> hash.
func LoadPorts(ctx context.Context, cfg *DB) ([]Port, error) {
	prefix := cfg.Key(sonic.ConfigPortTable, "")
	var keys []string
	iter := cfg.Client.Scan(ctx, 0, EscapeGlob(prefix)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("sonicdb: list CONFIG_DB ports: %w", err)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys) // SCAN may return a key twice
	pipe := cfg.Client.Pipeline()
	// A raw reply, not HGetAll's map: the field order is kept.
	cmds := make([]*redis.Cmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.Do(ctx, "HGETALL", k)
	}
	if _, err := pipe.Exec(ctx); err != nil && len(keys) > 0 {
		for i, c := range cmds {
			if IsRedisError(c.Err()) {
				return nil, fmt.Errorf("sonicdb: read CONFIG_DB ports: %w", keyError(ctx, cfg, keys[i], c.Err()))
			}
		}
		return nil, fmt.Errorf("sonicdb: read CONFIG_DB ports: %w", err)
	}
	ports := make([]Port, 0, len(keys))
	for i, k := range keys {
		fields, err := cmds[i].StringSlice()
		if err != nil {
			return nil, fmt.Errorf("sonicdb: read CONFIG_DB %s: %w", k, err)
		}
		if len(fields) == 0 {
			continue // deleted between SCAN and HGETALL
		}
		ports = append(ports, Port{Name: strings.TrimPrefix(k, prefix), Fields: fields})
	}
	return ports, nil
}

// EscapeGlob escapes the glob characters of s for SCAN MATCH.
func EscapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// InitializedPorts returns those of names whose consumed APPL_DB
// PORT_TABLE:<name> already has an admin_status field.
func InitializedPorts(ctx context.Context, appl *DB, names []string) (map[string]bool, error) {
	pipe := appl.Client.Pipeline()
	cmds := make([]*redis.BoolCmd, len(names))
	for i, n := range names {
		cmds[i] = pipe.HExists(ctx, appl.Key(sonic.PortTable, n), sonic.FieldAdminStatus)
	}
	if _, err := pipe.Exec(ctx); err != nil && len(names) > 0 {
		for i, c := range cmds {
			if IsRedisError(c.Err()) {
				return nil, fmt.Errorf("sonicdb: read APPL_DB ports: %w", keyError(ctx, appl, appl.Key(sonic.PortTable, names[i]), c.Err()))
			}
		}
		return nil, fmt.Errorf("sonicdb: read APPL_DB ports: %w", err)
	}
	done := make(map[string]bool)
	for i, n := range names {
		if cmds[i].Val() {
			done[n] = true
		}
	}
	return done, nil
}
