package harness

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// DBGlobalFile is the name of the file written by WriteDBGlobal.
const DBGlobalFile = "database_global.json"

// WriteDBGlobal writes a SONiC database_global.json into a new temporary
// directory and returns its path. includes maps each namespace (e.g. a
// Netns's Name) to the database_config.json of its databases (e.g. from
// Redis.WriteDBConfig); each include is written relative to the global
// file's directory, as SONiC writes them. The host's entry ("") names a
// file that does not exist unless includes has one.
func WriteDBGlobal(t testing.TB, includes map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	type entry struct {
		Namespace string `json:"namespace,omitempty"`
		Include   string `json:"include"`
	}
	doc := struct {
		Includes []entry `json:"INCLUDES"`
		Version  string  `json:"VERSION"`
	}{Version: "1.0"}
	if _, ok := includes[""]; !ok {
		doc.Includes = append(doc.Includes, entry{Include: DBConfigFile})
	}
	for _, ns := range slices.Sorted(maps.Keys(includes)) {
		rel, err := filepath.Rel(dir, includes[ns])
		if err != nil {
			t.Fatalf("harness: include of %q: %v", ns, err)
		}
		doc.Includes = append(doc.Includes, entry{Namespace: ns, Include: rel})
	}
	b, err := json.MarshalIndent(doc, "", "    ")
	if err != nil {
		t.Fatalf("harness: encoding database_global.json: %v", err)
	}
	path := filepath.Join(dir, DBGlobalFile)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatalf("harness: %v", err)
	}
	return path
}
