package sonicdb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/sonic"
)

// ErrNoDatabase marks a database number the Redis server does not have
// ("ERR DB index is out of range" to SELECT): database_config.json and the
// server disagree, which no retry mends.
var ErrNoDatabase = errors.New("database number not on the redis server (see `databases` in its redis.conf)")

// noDatabase reports whether err is SELECT's refusal of a database number.
func noDatabase(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "DB index is out of range") || strings.Contains(s, "invalid DB index")
}

// ServerID returns the run_id of the Redis server that holds db (INFO
// server): with the database number, what identifies the database whatever
// the way it is reached.
func ServerID(ctx context.Context, db *DB) (string, error) {
	info, err := db.Client.Info(ctx, "server").Result()
	if err != nil {
		return "", fmt.Errorf("sonicdb: %s: read run_id: %w", db.Name, err)
	}
	id := parseRunID(info)
	if id == "" {
		return "", fmt.Errorf("sonicdb: %s: INFO server has no run_id", db.Name)
	}
	return id, nil
}

// aclCheck asks the server, without running anything, whether the current
// user may run each command with its arguments (redis.acl_check_cmd, Redis
// 7.0 and later). ARGV holds the commands one after another, each as its
// argument count followed by its arguments. It returns the index (from 1)
// of the first refused command, or 0.
var aclCheck = redis.NewScript(`
local i, n = 1, 0
while i <= #ARGV do
  local argc = tonumber(ARGV[i])
  n = n + 1
  if not redis.acl_check_cmd(unpack(ARGV, i + 1, i + argc)) then
    return n
  end
  i = i + 1 + argc
end
return 0
`)

// portProbe is the port name the checks use: an ACL may restrict keys and
// channels, so every command is checked with a key of the kind portsyncd
// writes.
const portProbe = "Ethernet0"

// applNeeds are the commands portsyncd sends to APPL_DB; the first three
// are the producer script's (producer.go).
func applNeeds(appl *DB) [][]string {
	port := appl.Key(sonic.PortTable, portProbe)
	return [][]string{
		{"SADD", sonic.KeySet(sonic.PortTable), portProbe},
		{"HSET", sonic.Staging(port), sonic.FieldAdminStatus, sonic.Up},
		{"PUBLISH", sonic.Channel(sonic.PortTable, appl.ID), sonic.ChannelMessage},
		{"EXISTS", port},
		{"HEXISTS", port, sonic.FieldAdminStatus},
	}
}

// needs are the commands portsyncd sends to each database. EVAL is checked
// by running the check itself.
func needs(dbs *DBs) map[*DB][][]string {
	config, state := dbs.Config, dbs.State
	logger, port := config.Key(sonic.LoggerTable, sonic.DaemonName), state.Key(sonic.PortTable, portProbe)
	return map[*DB][][]string{
		dbs.Appl: applNeeds(dbs.Appl),
		config: {
			{"HGET", config.Key(sonic.DeviceMetadata, sonic.DeviceMetadataKey), sonic.FieldSwitchType},
			{"SCAN", "0", "MATCH", config.Key(sonic.ConfigPortTable, "*"), "COUNT", "1000"},
			{"HGETALL", config.Key(sonic.ConfigPortTable, portProbe)},
			{"HSETNX", logger, sonic.FieldLogLevel, sonic.DefaultLogLevel},
			{"HGET", logger, sonic.FieldLogLevel},
		},
		state: {
			{"HGET", state.Key(sonic.WarmEnableTable, sonic.WarmEnableScopes()[0]), sonic.FieldEnable},
			{"HSET", RestoreCountKey(state), sonic.FieldRestoreCount, "0"},
			{"HINCRBY", RestoreCountKey(state), sonic.FieldRestoreCount, "1"},
			{"SCAN", "0", "MATCH", state.Key(sonic.PortTable, "*"), "COUNT", "1000"},
			{"HSET", port, sonic.FieldState, sonic.StateOK},
			{"HEXISTS", port, sonic.FieldOperStatus},
			{"DEL", port},
		},
	}
}

// firstRefused runs aclCheck for cmds on db: the index (from 1) of the first
// command the user may not run, or 0.
func firstRefused(ctx context.Context, db *DB, cmds [][]string) (int, error) {
	var argv []any
	for _, c := range cmds {
		argv = append(argv, len(c))
		for _, a := range c {
			argv = append(argv, a)
		}
	}
	return aclCheck.Eval(ctx, db.Client, nil, argv...).Int()
}

// needsEval are the databases portsyncd runs scripts on: the producer
// protocol on APPL_DB, the stale-entry deletion on STATE_DB.
func needsEval(dbs *DBs, db *DB) bool { return db == dbs.Appl || db == dbs.State }

// CheckPermissions asks each database's server whether portsyncd's user may
// run every command portsyncd will send there, without running any of them
// and so with no side effect. A refusal, which would hold every later write
// back for ever, is returned as an error matching ErrRefused naming the
// database, the command and its key. Servers before Redis 7.0 cannot be
// asked (no redis.acl_check_cmd): nothing is checked there, and refusals
// show at run time (see ProducerRefusal).
func CheckPermissions(ctx context.Context, dbs *DBs) error {
	all := needs(dbs)
	for _, db := range []*DB{dbs.Appl, dbs.Config, dbs.State} {
		cmds := all[db]
		n, err := firstRefused(ctx, db, cmds)
		switch {
		case err != nil && refused(err) && needsEval(dbs, db):
			return fmt.Errorf("sonicdb: %s at %s: EVAL: %w: %w", db.Name, addr(db), ErrRefused, err)
		case err != nil && IsRedisError(err):
			// No acl_check_cmd (before 7.0), or no EVAL where portsyncd
			// needs none: nothing to learn here.
			continue
		case err != nil:
			return fmt.Errorf("sonicdb: %s: check permissions: %w", db.Name, err)
		case n > 0 && n <= len(cmds):
			return fmt.Errorf("sonicdb: %s at %s: %s %s: %w: the ACL of portsyncd's user denies it (NOPERM)",
				db.Name, addr(db), cmds[n-1][0], strings.Join(cmds[n-1][1:], " "), ErrRefused)
		}
	}
	return nil
}

// ProducerRefusal reads the error of a producer set (the *redis.Cmd that
// ProducerSet queued, after the pipeline ran). It returns nil when err is
// nil or not a refusal (a lost connection, OOM, WRONGTYPE: worth retrying).
// When the server refused the script or a command inside it for good (an
// ACL), it returns an error matching ErrRefused that names the refused
// command, asking the server which one it is. Scripts are not rolled back:
// with PUBLISH refused the key is staged (SADD, HSET done) but never
// announced, so orchagent does not see it; such a set is not complete and
// retrying will not complete it.
func ProducerRefusal(ctx context.Context, appl *DB, err error) error {
	if err == nil || !IsRedisError(err) {
		return nil
	}
	s := err.Error()
	if !refused(err) && !strings.Contains(s, "The user executing the script can't") {
		return nil
	}
	what := "EVAL"
	if !refused(err) { // refused inside the script: ask which command
		what = "a command of the producer script"
		cmds := applNeeds(appl)[:3] // SADD, HSET, PUBLISH: what the script runs
		if n, cerr := firstRefused(ctx, appl, cmds); cerr == nil && n > 0 && n <= len(cmds) {
			what = cmds[n-1][0] + " " + cmds[n-1][1]
		}
	}
	return fmt.Errorf("sonicdb: %s at %s: producer set refused at %s (staged entries may lack their announcement): %w: %w",
		appl.Name, addr(appl), what, ErrRefused, err)
}
