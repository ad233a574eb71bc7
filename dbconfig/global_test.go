package dbconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sonicGlobal is the multi-ASIC database_global.json SONiC generates.
const sonicGlobal = `{
    "INCLUDES": [
        {"include": "database_config.json"},
        {"namespace": "asic0", "include": "../../redis0/sonic-db/database_config.json"},
        {"namespace": "asic1", "include": "../../redis1/sonic-db/database_config.json"}
    ],
    "VERSION": "1.0"
}`

func TestParseGlobal(t *testing.T) {
	const dir = "/var/run/redis/sonic-db"
	tests := []struct {
		name  string
		dir   string
		input string
		want  *Global
	}{
		{
			name:  "multi-ASIC",
			dir:   dir,
			input: sonicGlobal,
			want: &Global{Dir: dir, Includes: map[string]string{
				"":      "/var/run/redis/sonic-db/database_config.json",
				"asic0": "/var/run/redis0/sonic-db/database_config.json",
				"asic1": "/var/run/redis1/sonic-db/database_config.json",
			}},
		},
		{
			name:  "empty namespace is the host",
			dir:   dir,
			input: `{"INCLUDES": [{"namespace": "", "include": "./database_config.json"}]}`,
			want:  &Global{Dir: dir, Includes: map[string]string{"": "/var/run/redis/sonic-db/database_config.json"}},
		},
		{
			name:  "absolute include kept",
			dir:   dir,
			input: `{"INCLUDES": [{"include": "/etc/sonic//db/../database_config.json"}]}`,
			want:  &Global{Dir: dir, Includes: map[string]string{"": "/etc/sonic/database_config.json"}},
		},
		{
			name:  "relative dir",
			dir:   "testdata",
			input: `{"INCLUDES": [{"include": "database_config.json"}, {"namespace": "asic0", "include": "../asic0/database_config.json"}]}`,
			want: &Global{Dir: "testdata", Includes: map[string]string{
				"":      "testdata/database_config.json",
				"asic0": "asic0/database_config.json",
			}},
		},
		{
			name:  "no host entry and unknown fields",
			dir:   dir,
			input: `{"INCLUDES": [{"namespace": "asic0", "include": "a.json", "container_name": "database0"}], "VERSION": "1.0", "X": null}`,
			want:  &Global{Dir: dir, Includes: map[string]string{"asic0": "/var/run/redis/sonic-db/a.json"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGlobal(tt.dir, []byte(tt.input))
			if err != nil {
				t.Fatalf("ParseGlobal: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseGlobal mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseGlobalInvalid(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{name: "empty", input: "", wantErr: "empty document"},
		{name: "not JSON", input: "{INCLUDES}", wantErr: "invalid JSON at offset 2: invalid character 'I' looking for beginning of object key string"},
		{name: "too large", input: sonicGlobal + strings.Repeat("\n", maxSize), wantErr: "document exceeds 4194304 bytes"},
		{name: "array document", input: `[{"include": "a.json"}]`, wantErr: "document must be an object, got array"},
		{name: "missing INCLUDES", input: `{"VERSION": "1.0"}`, wantErr: "missing INCLUDES"},
		{name: "INCLUDES is object", input: `{"INCLUDES": {"include": "a.json"}}`, wantErr: "INCLUDES must be an array, got object"},
		{name: "INCLUDES is null", input: `{"INCLUDES": null}`, wantErr: "INCLUDES must be an array, got null"},
		{name: "INCLUDES is empty", input: `{"INCLUDES": []}`, wantErr: "INCLUDES is empty"},
		{name: "entry is string", input: `{"INCLUDES": [{"include": "a.json"}, "b.json"]}`, wantErr: "INCLUDES[1] must be an object, got string"},
		{name: "missing include", input: `{"INCLUDES": [{"namespace": "asic0"}]}`, wantErr: "INCLUDES[0]: missing include"},
		{name: "empty include", input: `{"INCLUDES": [{"include": ""}]}`, wantErr: "INCLUDES[0]: include must not be empty"},
		{name: "include is array", input: `{"INCLUDES": [{"include": ["a.json"]}]}`, wantErr: "INCLUDES[0]: include must be a string, got array"},
		{name: "namespace is number", input: `{"INCLUDES": [{"namespace": 0, "include": "a.json"}]}`, wantErr: "INCLUDES[0]: namespace must be a string, got number"},
		{
			name:    "duplicate namespace",
			input:   `{"INCLUDES": [{"include": "a.json"}, {"namespace": "asic0", "include": "b.json"}, {"namespace": "asic0", "include": "c.json"}]}`,
			wantErr: `INCLUDES[2]: namespace "asic0" already defined in INCLUDES[1]`,
		},
		{
			name:    "duplicate host",
			input:   `{"INCLUDES": [{"include": "a.json"}, {"namespace": "", "include": "b.json"}]}`,
			wantErr: "INCLUDES[1]: host namespace already defined in INCLUDES[0]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGlobal("/d", []byte(tt.input))
			if err == nil {
				t.Fatalf("ParseGlobal = %+v, want error %q", got, tt.wantErr)
			}
			if got != nil {
				t.Errorf("ParseGlobal returned a value along with error %v", err)
			}
			if want := "dbconfig: " + tt.wantErr; err.Error() != want {
				t.Errorf("ParseGlobal error:\n got %s\nwant %s", err, want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
		})
	}
}

func TestConfigPath(t *testing.T) {
	g, err := ParseGlobal("/var/run/redis/sonic-db", []byte(sonicGlobal))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		namespace, want, wantErr string
	}{
		{namespace: "", want: "/var/run/redis/sonic-db/database_config.json"},
		{namespace: "asic1", want: "/var/run/redis1/sonic-db/database_config.json"},
		{namespace: "asic9", wantErr: `dbconfig: namespace "asic9" not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.namespace, func(t *testing.T) {
			got, err := g.ConfigPath(tt.namespace)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
				}
			}
			if got != tt.want || gotErr != tt.wantErr {
				t.Errorf("ConfigPath(%q) = %q, %q; want %q, %q", tt.namespace, got, gotErr, tt.want, tt.wantErr)
			}
		})
	}

	hostless := &Global{Includes: map[string]string{"asic0": "/a.json"}}
	if _, err := hostless.ConfigPath(""); err == nil || err.Error() != "dbconfig: host namespace not defined" {
		t.Errorf(`ConfigPath("") without host entry: error = %v`, err)
	}
}

// TestLoadGlobal lays out the directories of a multi-ASIC system and follows
// the global file to a namespace's database_config.json.
func TestLoadGlobal(t *testing.T) {
	root := t.TempDir()
	hostDir := filepath.Join(root, "redis", "sonic-db")
	asicDir := filepath.Join(root, "redis0", "sonic-db")
	for _, d := range []string{hostDir, asicDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	globalPath := filepath.Join(hostDir, "database_global.json")
	global := `{"INCLUDES": [{"include": "database_config.json"}, {"namespace": "asic0", "include": "../../redis0/sonic-db/database_config.json"}]}`
	if err := os.WriteFile(globalPath, []byte(global), 0o644); err != nil {
		t.Fatal(err)
	}
	asic := doc(`"redis": {"hostname": "127.0.0.1", "port": 6379, "unix_socket_path": "/var/run/redis0/redis.sock"}`, applDB)
	if err := os.WriteFile(filepath.Join(asicDir, "database_config.json"), []byte(asic), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Chdir(root)
	// A relative path still yields absolute includes.
	g, err := LoadGlobal(filepath.Join("redis", "sonic-db", "database_global.json"))
	if err != nil {
		t.Fatalf("LoadGlobal: %v", err)
	}
	want := &Global{Dir: hostDir, Includes: map[string]string{
		"":      filepath.Join(hostDir, "database_config.json"),
		"asic0": filepath.Join(asicDir, "database_config.json"),
	}}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("LoadGlobal mismatch (-want +got):\n%s", diff)
	}

	path, err := g.ConfigPath("asic0")
	if err != nil {
		t.Fatalf("ConfigPath(asic0): %v", err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	db, err := c.Database("APPL_DB")
	if err != nil {
		t.Fatal(err)
	}
	if got := db.RedisOptions().Addr; got != "/var/run/redis0/redis.sock" {
		t.Errorf("asic0 APPL_DB address = %q, want /var/run/redis0/redis.sock", got)
	}

	// The host's file was never written.
	path, err = g.ConfigPath("")
	if err != nil {
		t.Fatalf(`ConfigPath(""): %v`, err)
	}
	if _, err := Load(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(%s) error = %v, want os.ErrNotExist", path, err)
	}
}

func TestLoadGlobalErrors(t *testing.T) {
	dir := t.TempDir()

	missing := filepath.Join(dir, "database_global.json")
	_, err := LoadGlobal(missing)
	if want := "dbconfig: " + missing + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("LoadGlobal error:\n got %v\nwant %s", err, want)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("errors.Is(%v, os.ErrNotExist) = false", err)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"INCLUDES": [{"namespace": "asic0"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadGlobal(bad)
	if want := "dbconfig: " + bad + ": INCLUDES[0]: missing include"; err == nil || err.Error() != want {
		t.Errorf("LoadGlobal error:\n got %v\nwant %s", err, want)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
}
