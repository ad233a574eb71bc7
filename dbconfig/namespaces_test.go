package dbconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSelect follows a multi-ASIC layout from the global file to each
// selected namespace's databases, and names the namespace in every error.
func TestSelect(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := func(sock string) string {
		return doc(`"redis": {"hostname": "127.0.0.1", "port": 6379, "unix_socket_path": "`+sock+`"}`, applDB)
	}
	write("redis/sonic-db/database_config.json", cfg("/host.sock"))
	write("redis0/sonic-db/database_config.json", cfg("/asic0.sock"))
	write("redis1/sonic-db/database_config.json", cfg("/asic1.sock"))
	write("redis3/sonic-db/database_config.json", `{"INSTANCES": `)
	write("redis/sonic-db/database_global.json", `{"INCLUDES": [{"include": "database_config.json"},
		{"namespace": "asic1", "include": "../../redis1/sonic-db/database_config.json"},
		{"namespace": "asic0", "include": "../../redis0/sonic-db/database_config.json"},
		{"namespace": "asic2", "include": "../../redis2/sonic-db/database_config.json"},
		{"namespace": "asic3", "include": "../../redis3/sonic-db/database_config.json"},
		{"namespace": "..", "include": "../../redis0/sonic-db/database_config.json"}]}`)
	g, err := LoadGlobal(filepath.Join(root, "redis/sonic-db/database_global.json"))
	if err != nil {
		t.Fatal(err)
	}

	got, err := g.Select([]string{"asic1", "asic0", "asic1"}, "APPL_DB")
	if err != nil {
		t.Fatal(err)
	}
	var names, socks []string
	for _, ns := range got {
		names = append(names, ns.Name)
		db, err := ns.Config.Database("APPL_DB")
		if err != nil {
			t.Fatal(err)
		}
		socks = append(socks, db.Instance.UnixSocketPath)
	}
	if diff := cmp.Diff([]string{"asic0", "asic1"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/asic0.sock", "/asic1.sock"}, socks); diff != "" {
		t.Errorf("sockets (-want +got):\n%s", diff)
	}
	if got[0].Path != filepath.Join(root, "redis0/sonic-db/database_config.json") {
		t.Errorf("asic0 path = %s", got[0].Path)
	}

	for _, tt := range []struct {
		name    string
		names   []string
		require []string
		want    []string // substrings of the error
		is      error
	}{
		{"unknown", []string{"asic0", "asic9"}, nil, []string{`namespace "asic9" not defined`}, ErrInvalid},
		{"missing include", []string{"asic2"}, nil, []string{`namespace "asic2"`, "redis2/sonic-db/database_config.json"}, fs.ErrNotExist},
		{"malformed include", []string{"asic3"}, nil, []string{`namespace "asic3"`, "redis3/sonic-db/database_config.json"}, ErrInvalid},
		{"database missing", []string{"asic0"}, []string{"STATE_DB"}, []string{`namespace "asic0"`, `"STATE_DB" not defined`}, ErrInvalid},
		{"all includes a broken one", []string{"all"}, nil, []string{`namespace ".."`}, ErrInvalid},
		{"path element", []string{"a/b"}, nil, []string{`namespace "a/b"`, "one path element"}, ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := g.Select(tt.names, tt.require...)
			if err == nil || !errors.Is(err, tt.is) {
				t.Fatalf("Select(%q) = %v, want an error matching %v", tt.names, err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}

	// "all" is every namespace but the host's.
	ok, err := ParseGlobal(root, []byte(`{"INCLUDES": [{"include": "redis/sonic-db/database_config.json"},
		{"namespace": "asic1", "include": "redis1/sonic-db/database_config.json"},
		{"namespace": "asic0", "include": "redis0/sonic-db/database_config.json"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	all, err := ok.Select([]string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "asic0" || all[1].Name != "asic1" {
		t.Errorf("Select(all) = %+v, want asic0 and asic1", all)
	}
	hostOnly, err := ParseGlobal(root, []byte(`{"INCLUDES": [{"include": "redis/sonic-db/database_config.json"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hostOnly.Select([]string{"all"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Select(all) with only the host: %v, want ErrInvalid", err)
	}
}
