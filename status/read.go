package status

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/sonic"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// ReadDBs reads the Redis side of a Snapshot: CONFIG_DB PORT, APPL_DB
// PORT_TABLE (consumed and staged) and STATE_DB PORT_TABLE. Kernel is left
// nil. Each table is read with SCAN and pipelined HGETALLs, so the snapshot
// is not atomic: a port changing meanwhile may show its old or new state.
func ReadDBs(ctx context.Context, dbs *sonicdb.DBs) (Snapshot, error) {
	var s Snapshot
	var err error
	if s.Config, err = readTable(ctx, dbs.Config, sonic.ConfigPortTable); err != nil {
		return s, err
	}
	if s.Appl, err = readTable(ctx, dbs.Appl, sonic.PortTable); err != nil {
		return s, err
	}
	if s.State, err = readTable(ctx, dbs.State, sonic.PortTable); err != nil {
		return s, err
	}
	s.Staged = make(map[string]bool)
	// Staged by the producer: the key set names what orchagent has yet to
	// pop; the staging hash holds the fields (either may be seen alone
	// while a pop or a set is under way).
	waiting, err := dbs.Appl.Client.SMembers(ctx, sonic.KeySet(sonic.PortTable)).Result()
	if err != nil {
		return s, fmt.Errorf("status: read APPL_DB %s: %w", sonic.KeySet(sonic.PortTable), err)
	}
	for _, k := range waiting {
		s.Staged[k] = true
	}
	staging, err := scanKeys(ctx, dbs.Appl, sonic.Staging(dbs.Appl.Key(sonic.PortTable, "")))
	if err != nil {
		return s, err
	}
	for _, k := range staging {
		s.Staged[k] = true
	}
	return s, nil
}

// scanKeys returns the keys of db starting with prefix, without the prefix.
func scanKeys(ctx context.Context, db *sonicdb.DB, prefix string) ([]string, error) {
	var keys []string
	seen := make(map[string]bool)
	iter := db.Client.Scan(ctx, 0, sonicdb.EscapeGlob(prefix)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		k := strings.TrimPrefix(iter.Val(), prefix)
		if !seen[k] { // SCAN may return a key twice
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("status: list %s %s*: %w", db.Name, prefix, err)
	}
	return keys, nil
}

// readTable reads every hash of table in db, by key.
func readTable(ctx context.Context, db *sonicdb.DB, table string) (map[string]map[string]string, error) {
	prefix := db.Key(table, "")
	keys, err := scanKeys(ctx, db, prefix)
	if err != nil {
		return nil, err
	}
	pipe := db.Client.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.HGetAll(ctx, prefix+k)
	}
	if len(keys) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("status: read %s %s: %w", db.Name, table, err)
		}
	}
	out := make(map[string]map[string]string, len(keys))
	for i, k := range keys {
		if m := cmds[i].Val(); len(m) > 0 { // empty: deleted since SCAN
			out[k] = m
		}
	}
	return out, nil
}
