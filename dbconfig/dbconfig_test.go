package dbconfig

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Fragments for building test documents.
const (
	redisInst = `"redis": {"hostname": "127.0.0.1", "port": 6379, "unix_socket_path": "/var/run/redis/redis.sock"}`
	applDB    = `"APPL_DB": {"id": 0, "separator": ":", "instance": "redis"}`
)

// doc builds a database_config.json from the bodies of its two sections.
func doc(instances, databases string) string {
	return `{"INSTANCES": {` + instances + `}, "DATABASES": {` + databases + `}, "VERSION": "1.0"}`
}

var (
	redisInstance = Instance{Name: "redis", Hostname: "127.0.0.1", Port: 6379, UnixSocketPath: "/var/run/redis/redis.sock"}
	// The example from SONiC's documentation: one instance, three databases.
	sonicExample = doc(redisInst, applDB+`,
		"CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis"},
		"STATE_DB":  {"id": 6, "separator": "|", "instance": "redis"}`)
)

func TestParse(t *testing.T) {
	tcp := Instance{Name: "tcp", Hostname: "::1", Port: 6400}
	tests := []struct {
		name  string
		input string
		want  *Config
	}{
		{
			name:  "single instance",
			input: sonicExample,
			want: &Config{
				Instances: map[string]Instance{"redis": redisInstance},
				Databases: map[string]Database{
					"APPL_DB":   {Name: "APPL_DB", ID: 0, Separator: ":", Instance: redisInstance},
					"CONFIG_DB": {Name: "CONFIG_DB", ID: 4, Separator: "|", Instance: redisInstance},
					"STATE_DB":  {Name: "STATE_DB", ID: 6, Separator: "|", Instance: redisInstance},
				},
			},
		},
		{
			name:  "TCP only",
			input: doc(`"tcp": {"hostname": "::1", "port": 6400}`, `"STATE_DB": {"id": 6, "separator": "|", "instance": "tcp"}`),
			want: &Config{
				Instances: map[string]Instance{"tcp": tcp},
				Databases: map[string]Database{"STATE_DB": {Name: "STATE_DB", ID: 6, Separator: "|", Instance: tcp}},
			},
		},
		{
			name:  "empty unix socket path means TCP",
			input: doc(`"tcp": {"hostname": "::1", "port": 6400, "unix_socket_path": ""}`, `"STATE_DB": {"id": 6, "separator": "|", "instance": "tcp"}`),
			want: &Config{
				Instances: map[string]Instance{"tcp": tcp},
				Databases: map[string]Database{"STATE_DB": {Name: "STATE_DB", ID: 6, Separator: "|", Instance: tcp}},
			},
		},
		{
			name: "multiple instances and unused instance",
			input: doc(redisInst+`, "tcp": {"hostname": "::1", "port": 6400}, "spare": {"hostname": "h", "port": 1}`,
				applDB+`, "STATE_DB": {"id": 65535, "separator": "||", "instance": "tcp"}`),
			want: &Config{
				Instances: map[string]Instance{"redis": redisInstance, "tcp": tcp, "spare": {Name: "spare", Hostname: "h", Port: 1}},
				Databases: map[string]Database{
					"APPL_DB":  {Name: "APPL_DB", ID: 0, Separator: ":", Instance: redisInstance},
					"STATE_DB": {Name: "STATE_DB", ID: 65535, Separator: "||", Instance: tcp},
				},
			},
		},
		{
			name: "extra unknown fields",
			input: `{"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": 6379,
				"unix_socket_path": "/var/run/redis/redis.sock", "persistence_for_warm_boot": "yes", "run_as_root": true,
				"Port": "ignored, keys are case-sensitive"}},
			 "DATABASES": {"APPL_DB": {"id": 0, "separator": ":", "instance": "redis", "format": "proto", "ID": null}},
			 "VERSION": "1.0", "EXTRA": [1, {"x": null}]}`,
			want: &Config{
				Instances: map[string]Instance{"redis": redisInstance},
				Databases: map[string]Database{"APPL_DB": {Name: "APPL_DB", ID: 0, Separator: ":", Instance: redisInstance}},
			},
		},
		{
			name:  "no VERSION",
			input: `{"INSTANCES": {` + redisInst + `}, "DATABASES": {` + applDB + `}}`,
			want: &Config{
				Instances: map[string]Instance{"redis": redisInstance},
				Databases: map[string]Database{"APPL_DB": {Name: "APPL_DB", ID: 0, Separator: ":", Instance: redisInstance}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.input))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tooLarge := `{"INSTANCES": {` + redisInst + `}, "DATABASES": {` + applDB + `}}` + strings.Repeat(" ", maxSize)
	tests := []struct {
		name    string
		input   string
		wantErr string
		syntax  bool // the error wraps a *json.SyntaxError
	}{
		{name: "empty", input: "", wantErr: "empty document"},
		{name: "only whitespace", input: " \n\t", wantErr: "empty document"},
		{name: "not JSON", input: "INSTANCES", wantErr: "invalid JSON at offset 1: invalid character 'I' looking for beginning of value", syntax: true},
		{name: "truncated", input: `{"INSTANCES": {`, wantErr: "invalid JSON at offset 15: unexpected end of JSON input", syntax: true},
		{name: "trailing garbage", input: `{} x`, wantErr: "invalid JSON at offset 4: invalid character 'x' after top-level value", syntax: true},
		{name: "too deep", input: `{"INSTANCES": ` + strings.Repeat("[", 20000), wantErr: "invalid JSON at offset 10014: invalid character '[' exceeded max depth", syntax: true},
		{name: "too large", input: tooLarge, wantErr: "document exceeds 4194304 bytes"},
		{name: "array document", input: `[]`, wantErr: "document must be an object, got array"},
		{name: "null document", input: `null`, wantErr: "document must be an object, got null"},
		{name: "string document", input: `"{}"`, wantErr: "document must be an object, got string"},
		{name: "missing INSTANCES", input: `{"DATABASES": {` + applDB + `}}`, wantErr: "missing INSTANCES"},
		{name: "missing DATABASES", input: `{"INSTANCES": {` + redisInst + `}}`, wantErr: "missing DATABASES"},
		{name: "lower-case section", input: `{"instances": {` + redisInst + `}, "DATABASES": {` + applDB + `}}`, wantErr: "missing INSTANCES"},
		{name: "INSTANCES is array", input: `{"INSTANCES": [], "DATABASES": {}}`, wantErr: "INSTANCES must be an object, got array"},
		{name: "DATABASES is null", input: `{"INSTANCES": {}, "DATABASES": null}`, wantErr: "DATABASES must be an object, got null"},
		{name: "no databases", input: doc(redisInst, ""), wantErr: "DATABASES defines no databases"},
		{name: "no instances", input: doc("", applDB), wantErr: `database "APPL_DB": instance "redis" not defined`},
		{name: "instance is string", input: doc(`"redis": "127.0.0.1:6379"`, applDB), wantErr: `instance "redis": value must be an object, got string`},
		{name: "empty instance name", input: doc(`"": {"hostname": "h", "port": 1}`, applDB), wantErr: `instance "": name must not be empty`},
		{name: "missing hostname", input: doc(`"redis": {"port": 6379}`, applDB), wantErr: `instance "redis": missing hostname`},
		{name: "empty hostname", input: doc(`"redis": {"hostname": "", "port": 6379}`, applDB), wantErr: `instance "redis": hostname must not be empty`},
		{name: "hostname is number", input: doc(`"redis": {"hostname": 127, "port": 6379}`, applDB), wantErr: `instance "redis": hostname must be a string, got number`},
		{name: "hostname is null", input: doc(`"redis": {"hostname": null, "port": 6379}`, applDB), wantErr: `instance "redis": hostname must be a string, got null`},
		{name: "missing port", input: doc(`"redis": {"hostname": "h"}`, applDB), wantErr: `instance "redis": missing port`},
		{name: "port 0", input: doc(`"redis": {"hostname": "h", "port": 0}`, applDB), wantErr: `instance "redis": port 0 out of range 1..65535`},
		{name: "port negative", input: doc(`"redis": {"hostname": "h", "port": -6379}`, applDB), wantErr: `instance "redis": port -6379 out of range 1..65535`},
		{name: "port too big", input: doc(`"redis": {"hostname": "h", "port": 65536}`, applDB), wantErr: `instance "redis": port 65536 out of range 1..65535`},
		{name: "port overflows int64", input: doc(`"redis": {"hostname": "h", "port": 99999999999999999999}`, applDB), wantErr: `instance "redis": port 99999999999999999999 out of range 1..65535`},
		{name: "port fraction", input: doc(`"redis": {"hostname": "h", "port": 6379.5}`, applDB), wantErr: `instance "redis": port must be an integer, got 6379.5`},
		{name: "port exponent", input: doc(`"redis": {"hostname": "h", "port": 6e3}`, applDB), wantErr: `instance "redis": port must be an integer, got 6e3`},
		{name: "port is string", input: doc(`"redis": {"hostname": "h", "port": "6379"}`, applDB), wantErr: `instance "redis": port must be an integer, got string`},
		{name: "port is boolean", input: doc(`"redis": {"hostname": "h", "port": true}`, applDB), wantErr: `instance "redis": port must be an integer, got boolean`},
		{name: "unix socket path is number", input: doc(`"redis": {"hostname": "h", "port": 1, "unix_socket_path": 0}`, applDB), wantErr: `instance "redis": unix_socket_path must be a string, got number`},
		{name: "unix socket path is null", input: doc(`"redis": {"hostname": "h", "port": 1, "unix_socket_path": null}`, applDB), wantErr: `instance "redis": unix_socket_path must be a string, got null`},
		{name: "database is array", input: doc(redisInst, `"APPL_DB": [0, ":", "redis"]`), wantErr: `database "APPL_DB": value must be an object, got array`},
		{name: "empty database name", input: doc(redisInst, `"": {"id": 0, "separator": ":", "instance": "redis"}`), wantErr: `database "": name must not be empty`},
		{name: "missing id", input: doc(redisInst, `"APPL_DB": {"separator": ":", "instance": "redis"}`), wantErr: `database "APPL_DB": missing id`},
		{name: "negative id", input: doc(redisInst, `"APPL_DB": {"id": -1, "separator": ":", "instance": "redis"}`), wantErr: `database "APPL_DB": id -1 out of range 0..65535`},
		{name: "id too big", input: doc(redisInst, `"APPL_DB": {"id": 65536, "separator": ":", "instance": "redis"}`), wantErr: `database "APPL_DB": id 65536 out of range 0..65535`},
		{name: "id is string", input: doc(redisInst, `"APPL_DB": {"id": "0", "separator": ":", "instance": "redis"}`), wantErr: `database "APPL_DB": id must be an integer, got string`},
		{name: "missing separator", input: doc(redisInst, `"APPL_DB": {"id": 0, "instance": "redis"}`), wantErr: `database "APPL_DB": missing separator`},
		{name: "empty separator", input: doc(redisInst, `"APPL_DB": {"id": 0, "separator": "", "instance": "redis"}`), wantErr: `database "APPL_DB": separator must not be empty`},
		{name: "separator is object", input: doc(redisInst, `"APPL_DB": {"id": 0, "separator": {}, "instance": "redis"}`), wantErr: `database "APPL_DB": separator must be a string, got object`},
		{name: "missing instance", input: doc(redisInst, `"APPL_DB": {"id": 0, "separator": ":"}`), wantErr: `database "APPL_DB": missing instance`},
		{name: "unknown instance", input: doc(redisInst, `"APPL_DB": {"id": 0, "separator": ":", "instance": "redis2"}`), wantErr: `database "APPL_DB": instance "redis2" not defined`},
		{name: "instance is number", input: doc(redisInst, `"APPL_DB": {"id": 0, "separator": ":", "instance": 0}`), wantErr: `database "APPL_DB": instance must be a string, got number`},
		{
			name:    "first problem in sorted order",
			input:   doc(`"b": {"hostname": "h"}, "a": {"port": 1}`, `"Z": {}, "A": {}`),
			wantErr: `instance "a": missing hostname`,
		},
		{
			name:    "databases checked in sorted order",
			input:   doc(redisInst, `"Z_DB": {}, "A_DB": {"id": 0}`),
			wantErr: `database "A_DB": missing separator`,
		},
		{
			name:    "long names are shortened",
			input:   doc(redisInst, `"APPL_DB": {"id": 0, "separator": ":", "instance": "`+strings.Repeat("x", 1000)+`"}`),
			wantErr: `database "APPL_DB": instance "` + strings.Repeat("x", 64) + `..." not defined`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.input))
			if err == nil {
				t.Fatalf("Parse = %+v, want error %q", got, tt.wantErr)
			}
			if got != nil {
				t.Errorf("Parse returned a config along with error %v", err)
			}
			if want := "dbconfig: " + tt.wantErr; err.Error() != want {
				t.Errorf("Parse error:\n got %s\nwant %s", err, want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			var se *json.SyntaxError
			if errors.As(err, &se) != tt.syntax {
				t.Errorf("errors.As(%v, *json.SyntaxError) = %v, want %v", err, !tt.syntax, tt.syntax)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	c, err := Load("testdata/database_config.json")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	chassis := Instance{Name: "redis_chassis", Hostname: "redis_chassis.server", Port: 6380, UnixSocketPath: "/var/run/redis-chassis/redis_chassis.sock"}
	if diff := cmp.Diff(map[string]Instance{"redis": redisInstance, "redis_chassis": chassis}, c.Instances); diff != "" {
		t.Errorf("Instances mismatch (-want +got):\n%s", diff)
	}
	wantIDs := map[string]int{
		"APPL_DB": 0, "ASIC_DB": 1, "COUNTERS_DB": 2, "LOGLEVEL_DB": 3, "CONFIG_DB": 4, "PFC_WD_DB": 5,
		"FLEX_COUNTER_DB": 5, "STATE_DB": 6, "SNMP_OVERLAY_DB": 7, "CHASSIS_APP_DB": 12,
	}
	gotIDs := make(map[string]int)
	for name, db := range c.Databases {
		gotIDs[name] = db.ID
	}
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Errorf("database IDs mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Database{Name: "CHASSIS_APP_DB", ID: 12, Separator: "|", Instance: chassis}, c.Databases["CHASSIS_APP_DB"]); diff != "" {
		t.Errorf("CHASSIS_APP_DB mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "nope", "database_config.json")
		_, err := Load(path)
		if err == nil {
			t.Fatal("Load succeeded on a missing file")
		}
		if want := "dbconfig: " + path + ": no such file or directory"; err.Error() != want {
			t.Errorf("Load error:\n got %s\nwant %s", err, want)
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("errors.Is(%v, os.ErrNotExist) = false", err)
		}
		if errors.Is(err, ErrInvalid) {
			t.Errorf("an I/O error matches ErrInvalid: %v", err)
		}
	})

	t.Run("invalid content", func(t *testing.T) {
		path := write("bad.json", doc(redisInst, `"APPL_DB": {"id": 0, "separator": ":", "instance": "redis2"}`))
		_, err := Load(path)
		if want := "dbconfig: " + path + `: database "APPL_DB": instance "redis2" not defined`; err == nil || err.Error() != want {
			t.Errorf("Load error:\n got %v\nwant %s", err, want)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
		}
	})

	t.Run("too large", func(t *testing.T) {
		path := write("big.json", sonicExample+strings.Repeat(" ", 2*maxSize))
		_, err := Load(path)
		if want := "dbconfig: " + path + ": document exceeds 4194304 bytes"; err == nil || err.Error() != want {
			t.Errorf("Load error:\n got %v\nwant %s", err, want)
		}
	})

	t.Run("directory", func(t *testing.T) {
		_, err := Load(dir)
		if err == nil || !strings.HasPrefix(err.Error(), "dbconfig: "+dir+": ") {
			t.Errorf("Load(%q) error = %v, want one starting with the path", dir, err)
		}
	})
}

// A configuration path that is not a regular file is refused at once: a
// named pipe with no writer would block open for ever.
func TestLoadNotRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "database_config.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, kind string }{
		{fifo, "named pipe"},
		{"/dev/null", "character device"},
		{t.TempDir(), "directory"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			for name, load := range map[string]func(string) error{
				"Load":       func(p string) error { _, err := Load(p); return err },
				"LoadGlobal": func(p string) error { _, err := LoadGlobal(p); return err },
			} {
				err := load(tt.path)
				want := "dbconfig: " + tt.path + ": not a regular file (a " + tt.kind + ")"
				if err == nil || err.Error() != want || !errors.Is(err, ErrNotRegular) {
					t.Errorf("%s: error %v, want %q matching ErrNotRegular", name, err, want)
				}
			}
		})
	}
}

func TestDatabase(t *testing.T) {
	c, err := Parse([]byte(sonicExample))
	if err != nil {
		t.Fatal(err)
	}
	db, err := c.Database("STATE_DB")
	if err != nil {
		t.Fatalf("Database(STATE_DB): %v", err)
	}
	if diff := cmp.Diff(Database{Name: "STATE_DB", ID: 6, Separator: "|", Instance: redisInstance}, db); diff != "" {
		t.Errorf("Database(STATE_DB) mismatch (-want +got):\n%s", diff)
	}

	_, err = c.Database("COUNTERS_DB")
	if want := `dbconfig: database "COUNTERS_DB" not defined`; err == nil || err.Error() != want {
		t.Errorf("Database(COUNTERS_DB) error = %v, want %s", err, want)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
}

func TestRequire(t *testing.T) {
	c, err := Parse([]byte(sonicExample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		names   []string
		wantErr string
	}{
		{name: "none", names: nil},
		{name: "all present", names: []string{"APPL_DB", "CONFIG_DB", "STATE_DB"}},
		{name: "first missing reported", names: []string{"APPL_DB", "ASIC_DB", "COUNTERS_DB"}, wantErr: `dbconfig: database "ASIC_DB" not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Require(tt.names...)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("Require(%q) = %q, want %q", tt.names, got, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
		})
	}
}

func TestRedisOptions(t *testing.T) {
	type options struct {
		Network, Addr string
		DB            int
	}
	tests := []struct {
		name string
		db   Database
		want options
	}{
		{
			name: "unix socket preferred",
			db:   Database{ID: 6, Separator: "|", Instance: redisInstance},
			want: options{Network: "unix", Addr: "/var/run/redis/redis.sock", DB: 6},
		},
		{
			name: "TCP IPv4",
			db:   Database{ID: 4, Separator: "|", Instance: Instance{Hostname: "127.0.0.1", Port: 6379}},
			want: options{Network: "tcp", Addr: "127.0.0.1:6379", DB: 4},
		},
		{
			name: "TCP IPv6",
			db:   Database{ID: 0, Separator: ":", Instance: Instance{Hostname: "::1", Port: 6380}},
			want: options{Network: "tcp", Addr: "[::1]:6380", DB: 0},
		},
		{
			name: "TCP hostname",
			db:   Database{ID: 12, Separator: "|", Instance: Instance{Hostname: "redis_chassis.server", Port: 6380}},
			want: options{Network: "tcp", Addr: "redis_chassis.server:6380", DB: 12},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.db.RedisOptions()
			got := options{Network: o.Network, Addr: o.Addr, DB: o.DB}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("RedisOptions mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		sep, table, key, want string
	}{
		{sep: "|", table: "PORT_TABLE", key: "Ethernet0", want: "PORT_TABLE|Ethernet0"},
		{sep: ":", table: "PORT_TABLE", key: "Ethernet0", want: "PORT_TABLE:Ethernet0"},
		{sep: "|", table: "PORT_TABLE", key: "", want: "PORT_TABLE|"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			db := Database{Separator: tt.sep}
			if got := db.Key(tt.table, tt.key); got != tt.want {
				t.Errorf("Key(%q, %q) = %q, want %q", tt.table, tt.key, got, tt.want)
			}
		})
	}
}
