package test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/test/harness"
)

// Issue 7, keys of the wrong type: start-up fails with an error naming the
// database, the key and what is wrong with it.
func TestIntegrationWrongTypeKeyNamed(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(e *env)
		want  string
	}{
		{"CONFIG_DB port is a string", func(e *env) { e.config.Set(ctx, "PORT|Ethernet0", "x", 0) },
			"CONFIG_DB PORT|Ethernet0 is a string, want a hash: WRONGTYPE"},
		{"APPL_DB port is a list", func(e *env) { e.configure("Ethernet0"); e.appl.RPush(ctx, "PORT_TABLE:Ethernet0", "x") },
			"APPL_DB PORT_TABLE:Ethernet0 is a list, want a hash: WRONGTYPE"},
		{"DEVICE_METADATA is a set", func(e *env) { e.config.SAdd(ctx, "DEVICE_METADATA|localhost", "x") },
			"CONFIG_DB DEVICE_METADATA|localhost is a set, want a hash: WRONGTYPE"},
		{"warm restart enable is a string", func(e *env) { e.state.Set(ctx, "WARM_RESTART_ENABLE_TABLE|swss", "true", 0) },
			"STATE_DB WARM_RESTART_ENABLE_TABLE|swss is a string, want a hash: WRONGTYPE"},
		{"restore_count not a number", func(e *env) {
			e.hset(e.state, "WARM_RESTART_ENABLE_TABLE|system", "enable", "true")
			e.hset(e.state, "WARM_RESTART_TABLE|portsyncd", "restore_count", "many")
		}, "STATE_DB WARM_RESTART_TABLE|portsyncd: ERR hash value is not an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.configure("Ethernet4")
			tt.setup(e)
			e.daemon = harness.StartDaemon(t, e.ns, "--db-config", e.dbConfig)
			code, err := e.daemon.Wait(waitFor)
			if err != nil {
				t.Fatal(err)
			}
			if code != 1 || !strings.Contains(e.log(), tt.want) {
				t.Errorf("exit status %d, want 1 and a log naming %q:\n%s", code, tt.want, e.log())
			}
		})
	}
}

// Issues 7 and 17 (item 8), Redis refuses portsyncd for good (password
// required; an ACL that allows PING but not a command portsyncd needs,
// also one run inside its scripts): no endless retry, one error naming
// the database, the address and what is refused, exit status 78
// (EX_CONFIG), and nothing written before: no restore_count, nothing
// staged in APPL_DB.
func TestIntegrationRedisRefusalExitsConfig(t *testing.T) {
	tests := []struct {
		name  string
		setup []any
		want  []string
	}{
		{"requirepass", []any{"CONFIG", "SET", "requirepass", "s3cret"},
			[]string{"APPL_DB at ", "NOAUTH Authentication required"}},
		{"ACL denies PING", []any{"ACL", "SETUSER", "default", "-ping"},
			[]string{"APPL_DB at ", "NOPERM"}},
		{"ACL denies writes", []any{"ACL", "SETUSER", "default", "-@write"},
			[]string{"APPL_DB at ", "SADD PORT_TABLE_KEY_SET", "NOPERM"}},
		{"ACL denies EVAL", []any{"ACL", "SETUSER", "default", "-eval"},
			[]string{"APPL_DB at ", "EVAL", "NOPERM"}},
		{"ACL denies PUBLISH", []any{"ACL", "SETUSER", "default", "-publish"},
			[]string{"APPL_DB at ", "PUBLISH PORT_TABLE_CHANNEL@0 G", "NOPERM"}},
		{"ACL denies the channel", []any{"ACL", "SETUSER", "default", "resetchannels"},
			[]string{"APPL_DB at ", "PUBLISH PORT_TABLE_CHANNEL@0 G", "NOPERM"}},
		{"ACL denies STATE_DB deletes", []any{"ACL", "SETUSER", "default", "-del"},
			[]string{"STATE_DB at ", "DEL PORT_TABLE|Ethernet0", "NOPERM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.configure("Ethernet0")
			admin := e.redis.Client(t, 0)
			if err := admin.Do(context.Background(), tt.setup...).Err(); err != nil {
				t.Fatal(err)
			}
			// Undo on an already authenticated connection, so the
			// harness can stop the server.
			t.Cleanup(func() {
				admin.Do(context.Background(), "CONFIG", "SET", "requirepass", "")
				admin.Do(context.Background(), "ACL", "SETUSER", "default", "+@all", "allchannels")
			})
			e.daemon = harness.StartDaemon(t, e.ns, "--db-config", e.dbConfig)
			code, err := e.daemon.Wait(waitFor)
			if err != nil {
				t.Fatal(err)
			}
			want := append(tt.want, "permanent", e.redis.Socket)
			if code != exitConfig || !containsAll(e.log(), want...) {
				t.Errorf("exit status %d, want %d and a log with %q:\n%s", code, exitConfig, want, e.log())
			}
			if n := e.countLog("redis not reachable"); n > 0 {
				t.Errorf("a permanent refusal retried %d times:\n%s", n, e.log())
			}
			if tt.name == "requirepass" {
				return // the test's own clients are refused too
			}
			for _, k := range []struct {
				c   *redis.Client
				key string
			}{{e.state, "WARM_RESTART_TABLE|portsyncd"}, {e.appl, "PORT_TABLE_KEY_SET"}, {e.appl, "_PORT_TABLE:Ethernet0"}} {
				if e.exists(k.c, k.key) {
					t.Errorf("%s written before the refusal was found", k.key)
				}
			}
		})
	}
}

// Issue 17 item 8: a database number the server does not have (SELECT
// says "ERR DB index is out of range") stops the start with one line
// naming the database and its number, exit status 78; no retry.
func TestIntegrationMissingDatabaseExitsConfig(t *testing.T) {
	e := newEnv(t)
	cfg := writeDBConfigIDs(t, map[string]any{"hostname": "127.0.0.1", "port": 6379, "unix_socket_path": e.redis.Socket},
		map[string]int{"APPL_DB": 0, "CONFIG_DB": 4, "STATE_DB": 99})
	e.daemon = harness.StartDaemon(t, e.ns, "--db-config", cfg)
	code, err := e.daemon.Wait(waitFor)
	if err != nil {
		t.Fatal(err)
	}
	var named []string
	for _, l := range strings.Split(e.log(), "\n") {
		if strings.Contains(l, "STATE_DB: id 99") {
			named = append(named, l)
		}
	}
	if code != exitConfig || len(named) != 1 || !strings.Contains(named[0], "DB index is out of range") {
		t.Errorf("exit status %d, want %d and one line naming STATE_DB id 99:\n%s", code, exitConfig, e.log())
	}
	if n := e.countLog("redis not reachable"); n > 0 {
		t.Errorf("a missing database retried %d times:\n%s", n, e.log())
	}
}

// Issue 7, unix_socket_path names a regular file: the daemon says it is not
// a socket (the kernel alone says "connection refused") while it waits.
func TestIntegrationSocketPathNotASocket(t *testing.T) {
	harness.RequireRoot(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "redis.sock")
	if err := os.WriteFile(file, []byte("not a socket"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"INSTANCES": map[string]any{"redis": map[string]any{"hostname": "127.0.0.1", "port": 6379, "unix_socket_path": file}},
		"DATABASES": map[string]any{
			"APPL_DB":   map[string]any{"id": 0, "separator": ":", "instance": "redis"},
			"CONFIG_DB": map[string]any{"id": 4, "separator": "|", "instance": "redis"},
			"STATE_DB":  map[string]any{"id": 6, "separator": "|", "instance": "redis"},
		},
	}
	b, _ := json.Marshal(cfg)
	path := filepath.Join(dir, "database_config.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	d := harness.StartDaemon(t, harness.NewNetns(t), "--db-config", path)
	d.WaitLog(t, "unix_socket_path "+file+" is not a socket (a regular file)", waitFor)
	d.Signal(t, syscall.SIGTERM)
	if code, err := d.Wait(waitFor); err != nil || code != 0 {
		t.Errorf("exit %d, %v after SIGTERM; want 0", code, err)
	}
}

// Issue 7, a database_config.json that is a named pipe (or a device) is
// refused at once, not opened and waited on for ever.
func TestIntegrationDBConfigFIFOExitsConfig(t *testing.T) {
	harness.RequireRoot(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "database_config.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	ns := harness.NewNetns(t)
	for path, kind := range map[string]string{fifo: "named pipe", "/dev/zero": "character device"} {
		d := harness.StartDaemon(t, ns, "--db-config", path)
		code, err := d.Wait(waitFor)
		if err != nil {
			t.Fatal(err)
		}
		out := strings.TrimSpace(d.Log())
		want := "portsyncd: dbconfig: " + path + ": not a regular file (a " + kind + ")"
		if code != exitConfig || out != want {
			t.Errorf("exit status %d, output %q; want 78 and %q", code, out, want)
		}
	}
}

// Issue 17 item 8, at run time: an ACL that stops PUBLISH after start-up
// makes PortInitDone's producer write partial (staged, never announced).
// It is not taken for published: one line naming the refused command, no
// "PortInitDone published", exit status 78.
func TestIntegrationProducerRefusedAtRunTimeExitsConfig(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0")
	e.orch.Run(t)
	e.start()
	e.waitAppl("PortConfigDone")
	admin := e.redis.Client(t, 0)
	if err := admin.Do(context.Background(), "ACL", "SETUSER", "default", "-publish").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Do(context.Background(), "ACL", "SETUSER", "default", "+@all", "allchannels") })
	e.ns.AddPort(t, "Ethernet0", e.peers) // the last pending port: PortInitDone is due
	code, err := e.daemon.Wait(waitFor)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.log())
	}
	if code != exitConfig || !containsAll(e.log(), "producer set refused", "PUBLISH") {
		t.Errorf("exit status %d, want %d and a line naming PUBLISH:\n%s", code, exitConfig, e.log())
	}
	if strings.Contains(e.log(), "PortInitDone published") {
		t.Errorf("a refused PortInitDone was logged as published:\n%s", e.log())
	}
}
