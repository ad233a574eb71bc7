package test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/test/harness"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestIntegrationGoldenWire records, with MONITOR, every command our daemon
// sends to Redis in a fixed scenario on the real parts, and compares it step
// by step with testdata/golden/wire.txt (-update rewrites it). The harness's
// own clients (the test's reads and writes, the orchagent stand-in) talk
// over TCP, the daemon over the unix socket: MONITOR tells them apart by
// address. Redis sends keyspace events ("AKE"), as SONiC's does.
//
// Normalised: connection upkeep is dropped; the producer script reads as
// PRODUCER_SET (with the PUBLISH it made); a port's STATE_DB HSETs within a
// step keep only the last, or none before a DEL (how many intermediate link
// states the kernel reports and the daemon coalesces is timing); within a
// step, runs of the same command on the same
// database are sorted (a batch's order of ports is a map's), the producer
// sets are not (their order is a constraint: ports, then PortConfigDone).
//
// The LOGGER|portsyncd registration (HSETNX of SONiC's defaults) is in the
// golden file; the level follower's reads of it are not: how many there are
// depends on when its keyspace subscription starts relative to the
// registration's own events.
func TestIntegrationGoldenWire(t *testing.T) {
	e := newEnvWith(t, harness.WithTCP(t))
	e.notify("AKE")
	mon := startMonitor(t, e.redis)

	ports := []string{"Ethernet0", "Ethernet4", "Ethernet8"}
	for i, p := range ports {
		// Deliberately not sorted: the order must survive to APPL_DB.
		e.hset(e.config, "PORT|"+p, "speed", "100000", "lanes", fmt.Sprintf("%d,%d,%d,%d", 4*i, 4*i+1, 4*i+2, 4*i+3),
			"alias", fmt.Sprintf("etp%d", i+1), "admin_status", "up", "mtu", "9100", "fec", "rs")
	}
	args := []string{"--port-table-recheck", "1h"}
	steps := []struct {
		name  string
		links int // link changes the step makes
		do    func()
	}{
		{"cold start", 0, func() {
			e.start(args...)
			// Orchagent consumes only once the daemon follows PORT_TABLE:
			// its hsets then tell the daemon the ports exist.
			e.daemon.WaitLog(t, "following APPL_DB port table by keyspace events", waitFor)
			e.orch.Run(t)
			for _, p := range append(ports, "PortConfigDone") {
				e.waitAppl(p)
			}
			mon.waitFor(t, "6 SCAN") // the stale-entry check after the first dump
		}},
		{"create ports", 3, func() {
			for _, p := range ports {
				e.ns.AddPort(t, p, e.peers)
			}
			for _, p := range ports {
				e.waitState(p, want("up", "up", 1500))
			}
			e.waitAppl("PortInitDone")
		}},
		{"admin down", 1, func() {
			e.ns.SetUp(t, "Ethernet0", false)
			e.waitState("Ethernet0", want("down", "down", 1500))
		}},
		{"mtu change", 1, func() {
			e.ns.SetMTU(t, "Ethernet4", 9100)
			e.waitState("Ethernet4", want("up", "up", 9100))
		}},
		{"carrier loss", 1, func() {
			e.ns.SetPeerUp(t, "Ethernet8", false)
			e.waitState("Ethernet8", want("up", "down", 1500))
		}},
		{"delete", 1, func() {
			e.ns.Delete(t, "Ethernet8")
			e.waitGone("Ethernet8")
		}},
		{"unconfigured Ethernet and foreign eth1", 3, func() {
			// Down, without carrier: no late carrier event outlives the step.
			e.ns.AddPort(t, "Ethernet96", e.peers, harness.PortDown(), harness.PeerDown())
			e.ns.AddPort(t, "eth1", e.peers, harness.PortDown(), harness.PeerDown())
			e.settle("Ethernet4", 9000) // written after the two were decided
		}},
		{"APPL_DB entry removed, netdev stays", 2, func() {
			if err := e.appl.Del(context.Background(), "PORT_TABLE:Ethernet4").Err(); err != nil {
				t.Fatal(err)
			}
			e.daemon.WaitLog(t, "port left APPL_DB port table", waitFor)
			e.ns.SetMTU(t, "Ethernet4", 1500) // held: not in PORT_TABLE
			e.settle("Ethernet0", 9000)
		}},
		{"APPL_DB entry back", 0, func() {
			// As orchagent's consumer would: its hset releases the held state.
			e.hset(e.appl, "PORT_TABLE:Ethernet4", "admin_status", "up")
			e.waitState("Ethernet4", want("up", "up", 1500))
		}},
		{"SIGTERM", 0, func() {
			e.daemon.Signal(t, syscall.SIGTERM)
			if code, err := e.daemon.Wait(5 * time.Second); err != nil || code != 0 {
				t.Fatalf("exit %d, %v\n%s", code, err, e.log())
			}
		}},
		{"warm restart", 0, func() {
			e.hset(e.state, "WARM_RESTART_ENABLE_TABLE|swss", "enable", "true")
			e.start(args...)
			// Ethernet8 is configured but gone: PortInitDone waits, as in
			// the original. The dump rewrites what exists.
			mon.waitFor(t, "6 SCAN", "6 HSET PORT_TABLE|Ethernet0", "6 HSET PORT_TABLE|Ethernet4", "0 EXISTS PORT_TABLE:Ethernet96")
			e.daemon.Signal(t, syscall.SIGTERM)
			if code, err := e.daemon.Wait(5 * time.Second); err != nil || code != 0 {
				t.Fatalf("exit %d, %v\n%s", code, err, e.log())
			}
		}},
	}
	for _, s := range steps {
		mon.mark(t, e, s.name) // also fences the step before
		s.do()
	}
	mon.mark(t, e, "end")
	recorded, _ := mon.render()
	var got []string
	for _, s := range steps {
		cmds := recorded[s.name]
		t.Logf("%-40s link changes %d, data commands %d, round trips ~%d (raw, before normalising)", s.name, s.links, len(cmds), roundTrips(cmds))
		got = append(got, "# "+s.name)
		got = append(got, normalise(cmds)...)
	}
	checkConstraints(t, mon.daemonLines(), ports)

	path := filepath.Join("testdata", "golden", "wire.txt")
	text := strings.Join(got, "\n") + "\n"
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(text, "\n")); diff != "" {
		t.Errorf("commands sent to Redis differ from %s (-want +got):\n%s", path, diff)
	}
}

// checkConstraints checks the order SONiC's consumers rely on, on the raw
// stream of the daemon's data commands: every configured port is published
// before PortConfigDone, each port's STATE_DB entry is written before
// PortInitDone, and each newly staged key is published exactly once.
func checkConstraints(t *testing.T, lines []string, ports []string) {
	t.Helper()
	at := func(prefix string) int {
		return slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
	}
	configDone, initDone := at("0 PRODUCER_SET PORT_TABLE PortConfigDone"), at("0 PRODUCER_SET PORT_TABLE PortInitDone")
	if configDone < 0 || initDone < 0 {
		t.Fatalf("PortConfigDone at %d, PortInitDone at %d: both must be published", configDone, initDone)
	}
	for _, p := range ports {
		if i := at("0 PRODUCER_SET PORT_TABLE " + p + " "); i < 0 || i > configDone {
			t.Errorf("%s published at %d, PortConfigDone at %d", p, i, configDone)
		}
		if i := at("6 HSET PORT_TABLE|" + p + " "); i < 0 || i > initDone {
			t.Errorf("STATE_DB %s first written at %d, PortInitDone at %d", p, i, initDone)
		}
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "0 PRODUCER_SET") && strings.Count(l, "; PUBLISH PORT_TABLE_CHANNEL@0 G") != 1 {
			t.Errorf("not published exactly once: %s", l)
		}
	}
}

// monitor reads MONITOR's stream of every command the server runs.
type monitor struct {
	mu      sync.Mutex
	entries []monEntry
	cond    chan struct{} // closed and replaced on each new entry
}

type monEntry struct {
	ts     float64
	db     int
	client string // "unix:<path>", "127.0.0.1:<port>" or "lua"
	args   []string
}

func startMonitor(t *testing.T, r *harness.Redis) *monitor {
	t.Helper()
	conn, err := net.Dial("tcp", r.TCPAddr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(conn)
	if line, err := rd.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("MONITOR: %q %v", line, err)
	}
	m := &monitor{cond: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			ent, err := parseMonitorLine(strings.TrimRight(line, "\r\n"))
			if err != nil {
				t.Errorf("MONITOR line %q: %v", line, err)
				continue
			}
			m.mu.Lock()
			m.entries = append(m.entries, ent)
			close(m.cond)
			m.cond = make(chan struct{})
			m.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return m
}

// parseMonitorLine parses `+<ts> [<db> <client>] "arg" "arg" ...`.
func parseMonitorLine(line string) (monEntry, error) {
	var e monEntry
	line = strings.TrimPrefix(line, "+")
	ts, rest, ok := strings.Cut(line, " [")
	if !ok {
		return e, fmt.Errorf("no [")
	}
	var err error
	if e.ts, err = strconv.ParseFloat(ts, 64); err != nil {
		return e, err
	}
	hdr, rest, ok := strings.Cut(rest, "] ")
	if !ok {
		return e, fmt.Errorf("no ]")
	}
	db, client, _ := strings.Cut(hdr, " ")
	if e.db, err = strconv.Atoi(db); err != nil {
		return e, err
	}
	e.client = client
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] != '"' {
			return e, fmt.Errorf("argument not quoted at %q", rest)
		}
		var b strings.Builder
		i := 1
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] != '\\' {
				b.WriteByte(rest[i])
				continue
			}
			i++
			switch rest[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'x':
				v, err := strconv.ParseUint(rest[i+1:i+3], 16, 8)
				if err != nil {
					return e, err
				}
				b.WriteByte(byte(v))
				i += 2
			default:
				b.WriteByte(rest[i])
			}
		}
		if i >= len(rest) {
			return e, fmt.Errorf("unterminated argument")
		}
		e.args = append(e.args, b.String())
		rest = rest[i+1:]
	}
	return e, nil
}

const markerPrefix = "golden-step:"

// mark puts a step's start into the stream, through the harness's own
// connection: everything after it in MONITOR's order belongs to the step.
func (m *monitor) mark(t *testing.T, e *env, name string) {
	t.Helper()
	if err := e.appl.Echo(context.Background(), markerPrefix+name).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(waitFor)
	for {
		m.mu.Lock()
		ch := m.cond
		m.mu.Unlock()
		if _, order := m.render(); slices.Contains(order, name) {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("MONITOR never showed the marker of step %q", name)
		}
	}
}

// followerRead reports the logging level follower's read of
// LOGGER|portsyncd (see the test's comment).
func followerRead(verb string, args []string) bool {
	return (verb == "HGET" || verb == "HGETALL") && len(args) >= 2 && args[1] == "LOGGER|portsyncd"
}

// auditRead are the read-only commands of dbwriter's audit, which reads
// back every few seconds what the daemon owns (README, "Where we differ");
// when one falls in a step depends on the clock, not on the scenario.
var auditRead = map[string]bool{"HMGET": true, "HLEN": true}

// upkeep are the commands that keep a connection, not data.
var upkeep = map[string]bool{"MULTI": true, "EXEC": true, "PING": true, "HELLO": true, "INFO": true, "SELECT": true, "CLIENT": true, "SCRIPT": true,
	"AUTH": true, "CONFIG": true, "SUBSCRIBE": true, "PSUBSCRIBE": true, "UNSUBSCRIBE": true, "PUNSUBSCRIBE": true, "QUIT": true}

// daemonCmd is one of the daemon's data commands, rendered.
type daemonCmd struct {
	ts   float64
	db   int
	text string
}

// render turns the stream into the daemon's data commands, grouped by
// step (after each marker); lua lines go with the EVAL that ran them.
func (m *monitor) render() (steps map[string][]daemonCmd, order []string) {
	m.mu.Lock()
	entries := slices.Clone(m.entries)
	m.mu.Unlock()
	steps = make(map[string][]daemonCmd)
	step := ""
	var last *daemonCmd // the daemon's EVAL the lua lines belong to, if any
	for _, en := range entries {
		if en.client == "lua" {
			if last != nil && len(en.args) > 0 {
				switch strings.ToUpper(en.args[0]) {
				case "PUBLISH", "DEL":
					last.text += "; " + strings.ToUpper(en.args[0]) + " " + quoteArgs(en.args[1:])
				}
			}
			continue
		}
		if last != nil {
			steps[step] = append(steps[step], *last)
			last = nil
		}
		if len(en.args) == 0 {
			continue
		}
		verb := strings.ToUpper(en.args[0])
		if !strings.HasPrefix(en.client, "unix:") {
			if verb == "ECHO" && len(en.args) == 2 && strings.HasPrefix(en.args[1], markerPrefix) {
				step = strings.TrimPrefix(en.args[1], markerPrefix)
				order = append(order, step)
			}
			continue
		}
		if upkeep[verb] || followerRead(verb, en.args) || auditRead[verb] {
			continue
		}
		c := daemonCmd{ts: en.ts, db: en.db, text: fmt.Sprintf("%d %s", en.db, renderCmd(verb, en.args[1:]))}
		if verb == "EVAL" || verb == "EVALSHA" {
			last = &c
			continue
		}
		steps[step] = append(steps[step], c)
	}
	if last != nil {
		steps[step] = append(steps[step], *last)
	}
	return steps, order
}

func renderCmd(verb string, args []string) string {
	if verb == "EVAL" && len(args) >= 2 {
		script := args[0]
		n, _ := strconv.Atoi(args[1])
		if len(args) >= 2+n {
			keys, argv := args[2:2+n], args[2+n:]
			switch {
			case strings.Contains(script, "redis.call('SADD', KEYS[1], ARGV[2])") && n == 2 && len(argv) >= 2:
				return "PRODUCER_SET " + strings.TrimSuffix(keys[0], "_KEY_SET") + " " + quoteArgs(argv[1:])
			case strings.Contains(script, "netdev_oper_status") && n == 1:
				return "DEL_IF_OURS " + quoteArgs(keys)
			}
		}
		return "EVAL <script> " + quoteArgs(args[1:])
	}
	return verb + " " + quoteArgs(args)
}

func quoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \"\\;") || strconv.Quote(a) != `"`+a+`"` {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// daemonLines are all the daemon's data commands so far, in order.
func (m *monitor) daemonLines() []string {
	steps, order := m.render()
	var out []string
	for _, s := range append([]string{""}, order...) {
		for _, c := range steps[s] {
			out = append(out, c.text)
		}
	}
	return out
}

// waitFor waits until the current step's commands contain each of
// prefixes.
func (m *monitor) waitFor(t *testing.T, prefixes ...string) {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		m.mu.Lock()
		ch := m.cond
		m.mu.Unlock()
		steps, order := m.render()
		var cur []daemonCmd
		if len(order) > 0 {
			cur = steps[order[len(order)-1]]
		}
		missing := slices.DeleteFunc(slices.Clone(prefixes), func(p string) bool {
			return slices.ContainsFunc(cur, func(c daemonCmd) bool { return strings.HasPrefix(c.text, p) })
		})
		if len(missing) == 0 {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("MONITOR never showed %q in this step; got:\n%v", missing, cur)
		}
	}
}

// roundTrips estimates the round trips of cmds from MONITOR's clock: a
// pipeline's commands reach the server together, on one database, while a
// new round trip waits for the previous replies (tens of microseconds and
// more).
func roundTrips(cmds []daemonCmd) int {
	n := 0
	for i, c := range cmds {
		if i == 0 || c.db != cmds[i-1].db || c.ts-cmds[i-1].ts > 30e-6 ||
			strings.HasPrefix(c.text, "0 EXISTS") != strings.HasPrefix(cmds[i-1].text, "0 EXISTS") {
			n++
		}
	}
	return n
}

// normalise keeps, of a port's STATE_DB writes in the step, the last HSET
// at the place of the first (none when a DEL follows them: coalescing may
// fold them into it) and one of each identical EXISTS; then it sorts runs of
// one command on one database, except producer sets.
func normalise(cmds []daemonCmd) []string {
	first, last := map[string]int{}, map[string]int{}
	deleted := map[string]bool{}
	for i, c := range cmds {
		if k, ok := stateSetKey(c.text); ok {
			if _, seen := first[k]; !seen {
				first[k] = i
			}
			last[k] = i
		}
		if k, ok := strings.CutPrefix(c.text, "6 DEL PORT_TABLE|"); ok {
			deleted[k] = true
		}
	}
	seen := map[string]bool{}
	var lines []string
	for i, c := range cmds {
		if k, ok := stateSetKey(c.text); ok {
			if deleted[k] || first[k] != i {
				continue
			}
			c = cmds[last[k]]
		}
		if strings.HasPrefix(c.text, "0 EXISTS ") {
			if seen[c.text] {
				continue
			}
			seen[c.text] = true
		}
		lines = append(lines, c.text)
	}
	kind := func(l string) string {
		f := strings.Fields(l)
		if len(f) < 2 || f[1] == "PRODUCER_SET" {
			return l // a run of its own
		}
		return f[0] + " " + f[1]
	}
	for i := 0; i < len(lines); {
		j := i + 1
		for j < len(lines) && kind(lines[j]) == kind(lines[i]) {
			j++
		}
		slices.Sort(lines[i:j])
		i = j
	}
	// The LOGGER registration runs on the level follower's goroutine: its
	// place among the start-up reads is not a constraint, so it leads (the
	// permission check's EVAL only names the key).
	logger := func(l string) bool {
		return strings.Contains(l, " LOGGER|portsyncd ") && !strings.Contains(l, " EVAL ")
	}
	return append(slices.Collect(filterSeq(lines, logger)), slices.Collect(filterSeq(lines, func(l string) bool { return !logger(l) }))...)
}

func filterSeq(lines []string, keep func(string) bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, l := range lines {
			if keep(l) && !yield(l) {
				return
			}
		}
	}
}

func stateSetKey(text string) (string, bool) {
	rest, ok := strings.CutPrefix(text, "6 HSET PORT_TABLE|")
	if !ok {
		return "", false
	}
	key, _, _ := strings.Cut(rest, " ")
	return key, true
}
