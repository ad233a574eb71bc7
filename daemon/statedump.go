package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/sonic-go/portsyncd/logging"
)

// keepDumps is how many state dumps a dump directory keeps.
const keepDumps = 10

// logPending is how many pending ports the dump's log line names.
const logPending = 8

// firstFew is what a log line names of a long list of ports.
func firstFew(ports []string) []string { return ports[:min(len(ports), logPending)] }

// stateDoc is one state dump: every actor's state, and the process's.
type stateDoc struct {
	// Namespace is the namespace the actors serve (--namespace; one dump
	// each), absent for the process's own.
	Namespace  string                    `json:"namespace,omitempty"`
	Time       time.Time                 `json:"time"`
	PID        int                       `json:"pid"`
	Goroutines int                       `json:"goroutines"`
	Restarts   map[string]uint64         `json:"restarts"`
	Runtime    runtimeStats              `json:"runtime"`
	Actors     map[string]map[string]any `json:"actors"`
	// Mailboxes are each actor's mailbox figures, read outside the actors.
	Mailboxes map[string]mailboxDoc `json:"mailboxes"`
	Missing   []string              `json:"missing,omitempty"` // actors that did not answer
}

// mailboxDoc is one mailbox in a state dump.
type mailboxDoc struct {
	Depth   int    `json:"depth"`
	Peak    int    `json:"peak"`
	Limit   int    `json:"limit"`
	Dropped uint64 `json:"dropped"`
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
func dumpState(r *running) {
	root, children, stats, dir, log := r.root, r.children, r.stats, r.opts.DumpDir, r.log
	doc := stateDoc{Namespace: r.namespace, Time: time.Now().UTC(), PID: os.Getpid(), Goroutines: runtime.NumGoroutine(),
		Restarts: stats.Restarts.ByActor(), Runtime: readRuntime(), Actors: make(map[string]map[string]any),
		Mailboxes: make(map[string]mailboxDoc, len(r.mailbox))}
	for name, mb := range r.mailbox {
		doc.Mailboxes[name] = mailboxDoc{Depth: mb.Depth(), Peak: mb.Peak(), Limit: mb.Limit(), Dropped: mb.Dropped()}
	}
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
	// The dump has every pending port; the line says how many and names a
	// few, so that 50,000 of them do not make one 700 KB log line.
	var pending []string
	if ps, ok := doc.Actors["portstate"]; ok {
		pending, _ = ps["pending"].([]string)
	}
	logging.Notice(log, "state dumped", "path", path, "actors", len(doc.Actors), "missing", doc.Missing,
		"goroutines", doc.Goroutines, "pending", len(pending), "pending_first", firstFew(pending))
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
