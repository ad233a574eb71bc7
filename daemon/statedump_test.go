package daemon

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWriteDumpKeepsTheNewestTen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dumps") // made by writeDump
	start := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	var paths []string
	for i := 0; i < 12; i++ {
		doc := &stateDoc{Time: start.Add(time.Duration(i) * time.Second), PID: 42, Goroutines: i,
			Actors: map[string]map[string]any{"portstate": {"pending": []string{"Ethernet0"}}}}
		p, err := writeDump(dir, doc)
		if err != nil {
			t.Fatalf("dump %d: %v", i, err)
		}
		paths = append(paths, p)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := make([]string, 0, keepDumps)
	for _, p := range paths[2:] {
		want = append(want, filepath.Base(p))
	}
	if !slices.Equal(names, want) {
		t.Errorf("kept %v, want the newest ten %v (and no temporary file)", names, want)
	}
	b, err := os.ReadFile(paths[11])
	if err != nil {
		t.Fatal(err)
	}
	var got stateDoc
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("newest dump is not JSON: %v\n%s", err, b)
	}
	if got.Goroutines != 11 || got.PID != 42 || !strings.Contains(string(b), `"Ethernet0"`) {
		t.Errorf("newest dump = %+v", got)
	}
}

func TestWriteDumpNamesTheProblem(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := writeDump(file, &stateDoc{Time: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "state dump") || !strings.Contains(err.Error(), "not-a-dir") {
		t.Errorf("writeDump into a file = %v, want an error naming the state dump and the path", err)
	}
}

// A log line names a few ports however many there are: SIGUSR1 with 50,000
// pending ports must not make a 700 KB line (the dump file has them all).
func TestPortListsInLogLinesAreShort(t *testing.T) {
	many := make([]string, 50000)
	for i := range many {
		many[i] = fmt.Sprintf("Ethernet%d", 4*i)
	}
	if got := firstFew(many); len(got) != logPending || got[0] != "Ethernet0" {
		t.Errorf("firstFew(50000 ports) = %v", got)
	}
	if got := summary(many); len(got) > 200 || !strings.HasSuffix(got, "and 49992 more") {
		t.Errorf("summary(50000 ports) = %q", got)
	}
	if got := summary([]string{"Ethernet0", "Ethernet4"}); got != "Ethernet0, Ethernet4" {
		t.Errorf("summary(2 ports) = %q", got)
	}
}
