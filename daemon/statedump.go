package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/logging"
)

// keepDumps is how many state dumps a dump directory keeps.
const keepDumps = 10

// stateDoc is one state dump: every actor's state, and the process's.
type stateDoc struct {
	Time       time.Time                 `json:"time"`
	PID        int                       `json:"pid"`
	Goroutines int                       `json:"goroutines"`
	Restarts   map[string]uint64         `json:"restarts"`
	Runtime    runtimeStats              `json:"runtime"`
	Actors     map[string]map[string]any `json:"actors"`
	Missing    []string                  `json:"missing,omitempty"` // actors that did not answer
}

// runtimeStats are the Go runtime's figures at the dump; heap_allocs, read
// at two dumps, gives allocations per event.
type runtimeStats struct {
	HeapAllocs uint64 `json:"heap_allocs"`
	HeapFrees  uint64 `json:"heap_frees"`
	HeapBytes  uint64 `json:"heap_bytes"`
	SysBytes   uint64 `json:"sys_bytes"`
	GCCycles   uint32 `json:"gc_cycles"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}

func readRuntime() runtimeStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtimeStats{HeapAllocs: ms.Mallocs, HeapFrees: ms.Frees, HeapBytes: ms.HeapAlloc, SysBytes: ms.Sys,
		GCCycles: ms.NumGC, GOMAXPROCS: runtime.GOMAXPROCS(0)}
}

// dumpState asks every actor for its state (SIGUSR1), writes the whole as
// one JSON document into dir and logs one line that sums it up. The
// actors keep working meanwhile: each answers between two messages.
func dumpState(root *actor.RootContext, children map[string]*actor.PID, stats *Stats, dir string, log *slog.Logger) {
	doc := stateDoc{Time: time.Now().UTC(), PID: os.Getpid(), Goroutines: runtime.NumGoroutine(),
		Restarts: stats.Restarts.ByActor(), Runtime: readRuntime(), Actors: make(map[string]map[string]any)}
	answers := askAll(context.Background(), root, children)
	for _, name := range slices.Sorted(maps.Keys(answers)) {
		if d := answers[name]; d != nil {
			doc.Actors[name] = d.State
		} else {
			doc.Missing = append(doc.Missing, name)
		}
	}
	path, err := writeDump(dir, &doc)
	if err != nil {
		log.Error("state dump not written", "dir", dir, "err", err)
		return
	}
	var pending any
	if ps, ok := doc.Actors["portstate"]; ok {
		pending = ps["pending"]
	}
	logging.Notice(log, "state dumped", "path", path, "actors", len(doc.Actors), "missing", doc.Missing,
		"goroutines", doc.Goroutines, "pending", pending)
}

// writeDump writes doc atomically (a temporary file renamed into place) as
// portsyncd-state-<time>.json in dir, and removes all but the newest
// keepDumps dumps.
func writeDump(dir string, doc *stateDoc) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("daemon: state dump: %w", err)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", fmt.Errorf("daemon: state dump: %w", err)
	}
	name := "portsyncd-state-" + doc.Time.Format("20060102T150405.000000000Z") + ".json"
	tmp, err := os.CreateTemp(dir, ".portsyncd-state-*")
	if err != nil {
		return "", fmt.Errorf("daemon: state dump: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	path := filepath.Join(dir, name)
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("daemon: state dump: %w", err)
	}
	return path, pruneDumps(dir)
}

// pruneDumps keeps the newest keepDumps dumps in dir. Names sort by time.
func pruneDumps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("daemon: prune state dumps: %w", err)
	}
	var dumps []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, "portsyncd-state-") && strings.HasSuffix(n, ".json") {
			dumps = append(dumps, n)
		}
	}
	slices.Sort(dumps)
	for len(dumps) > keepDumps {
		if err := os.Remove(filepath.Join(dir, dumps[0])); err != nil {
			return fmt.Errorf("daemon: prune state dumps: %w", err)
		}
		dumps = dumps[1:]
	}
	return nil
}
