package dbconfig

import (
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		sonicExample,
		doc(`"tcp": {"hostname": "::1", "port": 6400}`, `"STATE_DB": {"id": 6, "separator": "|", "instance": "tcp"}`),
		doc(redisInst, `"APPL_DB": {"id": 0, "separator": ":", "instance": "redis2"}`),
		doc(`"redis": {"hostname": "h", "port": 1e400}`, applDB),
		`{"INSTANCES": {}, "DATABASES": {}}`,
		`{"INSTANCES": [`,
		`null`,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if c != nil {
				t.Errorf("Parse returned a config along with error %v", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			if _, again := Parse(data); again == nil || again.Error() != err.Error() {
				t.Errorf("Parse error not deterministic: %v, then %v", err, again)
			}
			return
		}
		checkConfig(t, c)
		// What Parse accepted must survive a round trip unchanged.
		again, err := Parse(encode(t, c))
		if err != nil {
			t.Fatalf("Parse of re-encoded config: %v", err)
		}
		if diff := cmp.Diff(c, again); diff != "" {
			t.Errorf("round trip mismatch (-first +second):\n%s", diff)
		}
	})
}

// checkConfig verifies the invariants Parse promises.
func checkConfig(t *testing.T, c *Config) {
	t.Helper()
	if len(c.Databases) == 0 {
		t.Error("valid config without databases")
	}
	for name, inst := range c.Instances {
		if inst.Name != name || inst.Hostname == "" || inst.Port < 1 || inst.Port > 65535 {
			t.Errorf("invalid instance %q: %+v", name, inst)
		}
	}
	for name, db := range c.Databases {
		if db.Name != name || db.ID < 0 || db.ID > 65535 || db.Separator == "" {
			t.Errorf("invalid database %q: %+v", name, db)
		}
		if inst, ok := c.Instances[db.Instance.Name]; !ok || inst != db.Instance {
			t.Errorf("database %q: instance %+v not in Instances", name, db.Instance)
		}
		if got, err := c.Database(name); err != nil || got != db {
			t.Errorf("Database(%q) = %+v, %v; want %+v", name, got, err, db)
		}
		if o := db.RedisOptions(); o.DB != db.ID || o.Addr == "" {
			t.Errorf("database %q: RedisOptions = %s %s db %d", name, o.Network, o.Addr, o.DB)
		}
	}
	if err := c.Require(slices.Collect(maps.Keys(c.Databases))...); err != nil {
		t.Errorf("Require of every defined database: %v", err)
	}
}

// encode writes c back in SONiC's format.
func encode(t *testing.T, c *Config) []byte {
	t.Helper()
	type instance struct {
		Hostname       string `json:"hostname"`
		Port           int    `json:"port"`
		UnixSocketPath string `json:"unix_socket_path"`
	}
	type database struct {
		ID        int    `json:"id"`
		Separator string `json:"separator"`
		Instance  string `json:"instance"`
	}
	var doc struct {
		Instances map[string]instance `json:"INSTANCES"`
		Databases map[string]database `json:"DATABASES"`
	}
	doc.Instances = make(map[string]instance)
	for name, inst := range c.Instances {
		doc.Instances[name] = instance{inst.Hostname, inst.Port, inst.UnixSocketPath}
	}
	doc.Databases = make(map[string]database)
	for name, db := range c.Databases {
		doc.Databases[name] = database{db.ID, db.Separator, db.Instance.Name}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func FuzzParseGlobal(f *testing.F) {
	for _, s := range []struct{ dir, data string }{
		{"/var/run/redis/sonic-db", sonicGlobal},
		{"", `{"INCLUDES": [{"include": "/abs/../database_config.json"}]}`},
		{"rel/dir", `{"INCLUDES": [{"namespace": "asic0", "include": "../../.."}]}`},
		{"/d", `{"INCLUDES": [{"include": "a"}, {"namespace": "", "include": "b"}]}`},
		{"/d", `{"INCLUDES": []}`},
		{"/d", `{"INCLUDES": [{"include": 1}`},
	} {
		f.Add(s.dir, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, dir string, data []byte) {
		g, err := ParseGlobal(dir, data)
		if err != nil {
			if g != nil {
				t.Errorf("ParseGlobal returned a value along with error %v", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			if _, again := ParseGlobal(dir, data); again == nil || again.Error() != err.Error() {
				t.Errorf("ParseGlobal error not deterministic: %v, then %v", err, again)
			}
			return
		}
		if g.Dir != dir || len(g.Includes) == 0 {
			t.Errorf("ParseGlobal(%q) = %+v", dir, g)
		}
		type entry struct {
			Namespace string `json:"namespace"`
			Include   string `json:"include"`
		}
		var doc struct {
			Includes []entry `json:"INCLUDES"`
		}
		for ns, path := range g.Includes {
			if path != filepath.Clean(path) || (filepath.IsAbs(dir) && !filepath.IsAbs(path)) {
				t.Errorf("namespace %q: path %q not clean or not absolute under %q", ns, path, dir)
			}
			if got, err := g.ConfigPath(ns); err != nil || got != path {
				t.Errorf("ConfigPath(%q) = %q, %v; want %q", ns, got, err, path)
			}
			doc.Includes = append(doc.Includes, entry{ns, path})
		}
		// Resolved paths are already clean, so with no directory to join
		// they must come back unchanged. JSON cannot carry paths that are not
		// UTF-8 (dir is not bound to be), so those skip the round trip.
		if !utf8.ValidString(dir) {
			return
		}
		encoded, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseGlobal("", encoded)
		if err != nil {
			t.Fatalf("ParseGlobal of re-encoded file: %v", err)
		}
		if diff := cmp.Diff(g.Includes, again.Includes); diff != "" {
			t.Errorf("round trip mismatch (-first +second):\n%s", diff)
		}
	})
}
