package e2ebench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/actors/netlinkrx"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/test/harness"
)

// A subject is one process that turns link changes into STATE_DB writes:
// portsyncd, the original C++ portsyncd, or the bare relay. Each is measured
// while the others are stopped (SIGSTOP), with the same generator, ports,
// Redis, orchagent stand-in and keyspace subscriber.
type subject struct {
	name string
	proc *harness.Daemon
	w    *world
	ours bool // portsyncd: has counters (SIGUSR1)
}

func (s *subject) pid() int { return s.proc.Cmd.Process.Pid }

func (s *subject) signal(sig syscall.Signal) { s.proc.Signal(s.w.t, sig) }

// procSample is what /proc tells about a subject at one moment.
type procSample struct {
	CPU      time.Duration // utime+stime, all threads
	RSS, HWM int64         // bytes
	CtxSw    int64         // voluntary+nonvoluntary context switches, summed over the live threads
	Drops    int64         // datagrams the kernel dropped on its rtnetlink sockets that joined a group
	Queued   int64         // bytes waiting in those sockets
}

func (s *subject) sample() procSample {
	s.w.t.Helper()
	p, err := sampleProc(s.pid())
	if err != nil {
		s.w.t.Fatalf("%s: %v", s.name, err)
	}
	return p
}

func sampleProc(pid int) (procSample, error) {
	var p procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	// Fields after the command name, which may hold spaces: state is 3rd.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	p.CPU = time.Duration(ut+st) * 10 * time.Millisecond // CLK_TCK is 100
	if ns, ok := schedstatCPU(pid); ok {
		// The scheduler's own count, in nanoseconds: at 100 events a
		// second the 10 ms ticks above would be most of the figure's
		// error.
		p.CPU = ns
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	p.HWM, p.RSS = statusKB(status, "VmHWM:")<<10, statusKB(status, "VmRSS:")<<10
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // the thread exited meanwhile
		}
		p.CtxSw += statusKB(b, "voluntary_ctxt_switches:") + statusKB(b, "nonvoluntary_ctxt_switches:")
	}
	p.Drops, p.Queued, err = netlinkDrops(pid)
	return p, err
}

// schedstatCPU sums the time on CPU of every live thread of pid, from
// /proc/PID/task/*/schedstat (first field, nanoseconds).
func schedstatCPU(pid int) (time.Duration, bool) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum int64
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // the thread exited meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 0, false
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		sum += ns
	}
	return time.Duration(sum), len(tasks) > 0
}

// statusKB returns the first number after key in a /proc status file.
func statusKB(status []byte, key string) int64 {
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// netlinkDrops sums the Drops and Rmem columns of /proc/PID/net/netlink
// (the process's own namespace) over the process's NETLINK_ROUTE sockets
// that joined a multicast group, matched by inode.
func netlinkDrops(pid int) (drops, queued int64, err error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, 0, err
	}
	inodes := make(map[string]bool)
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	table, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/netlink", pid))
	if err != nil {
		return 0, 0, err
	}
	// sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
	for line := range strings.Lines(string(table)) {
		f := strings.Fields(line)
		if len(f) < 10 || f[1] != "0" || strings.Trim(f[3], "0") == "" || !inodes[f[9]] {
			continue
		}
		rmem, _ := strconv.ParseInt(f[4], 10, 64)
		d, _ := strconv.ParseInt(f[8], 10, 64)
		drops, queued = drops+d, queued+rmem
	}
	return drops, queued, nil
}

// counters asks portsyncd for its state (SIGUSR1) and returns netlinkrx's
// and dbwriter's counters and the Go runtime's.
func (s *subject) counters() map[string]int {
	s.w.t.Helper()
	// A new dump file, not a log line: the level may hide the line.
	newest := func() string {
		names, _ := filepath.Glob(filepath.Join(s.w.dumpDir, "portsyncd-state-*.json"))
		slices.Sort(names)
		if len(names) == 0 {
			return ""
		}
		return names[len(names)-1]
	}
	mark := newest()
	s.signal(syscall.SIGUSR1)
	harness.Eventually(s.w.t, 10*time.Second, func() bool { return newest() != mark },
		func() string { return "no state dump" })
	c, err := readCounters(s.w.dumpDir)
	if err != nil {
		s.w.t.Fatal(err)
	}
	return c
}

// startOriginal runs the original C++ portsyncd from dir (its run.sh) in
// the port namespace. It reads its database configuration from a fixed
// path, which is written here and restored, or removed, when the test ends.
// It returns once the original has finished its start-up: its main thread
// waits in epoll for link messages.
func startOriginal(w *world, dir string) *subject {
	t := w.t
	t.Helper()
	installSonicDBConfig(t, w.redis.WriteDBConfig(t))
	d := harness.StartProcess(t, w.ns, filepath.Join(dir, "run.sh"))
	d.WaitLog(t, "Listen to link messages", 30*time.Second)
	pid := d.Cmd.Process.Pid
	waits := 0
	harness.Eventually(t, 30*time.Second, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/wchan", pid, pid))
		if string(b) == "do_epoll_wait" {
			waits++
		} else {
			waits = 0
		}
		return waits >= 3
	}, func() string { return "original portsyncd never reached its select loop:\n" + d.Log() })
	return &subject{name: "original", proc: d, w: w}
}

// sonicDBConfig is where the original reads its database configuration.
const sonicDBConfig = "/var/run/redis/sonic-db/database_config.json"

// installSonicDBConfig copies the database configuration at from to
// sonicDBConfig and, when the test ends, puts back what was there.
func installSonicDBConfig(t *testing.T, from string) {
	t.Helper()
	prev, err := os.ReadFile(sonicDBConfig)
	existed := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(sonicDBConfig), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if existed {
			err = os.WriteFile(sonicDBConfig, prev, 0o644)
		} else {
			err = os.Remove(sonicDBConfig)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("restoring %s: %v", sonicDBConfig, err)
		}
	})
	if err := os.WriteFile(sonicDBConfig, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startRelay runs the bare relay (runRelay) as a process of its own in the
// port namespace: this test binary with -e2e.relay.
func startRelay(w *world) *subject {
	w.t.Helper()
	exe, err := os.Executable()
	if err != nil {
		w.t.Fatal(err)
	}
	d := harness.StartProcess(w.t, w.ns, exe, "-e2e.relay="+w.redis.Socket)
	d.WaitLog(w.t, "relay ready", 30*time.Second)
	return &subject{name: "relay", proc: d, w: w}
}

// runRelay is the floor a daemon can reach here, about twenty lines:
// receive link updates, HSET the four fields, one round trip per event; no
// actors, no checks, no resynchronisation (a lost event stays lost). Its
// receive buffer is portsyncd's default.
func runRelay(socket string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "relay:", err)
		return 1
	}
	c, err := netlink.Dial(unix.NETLINK_ROUTE, nil)
	if err != nil {
		return fail(err)
	}
	if err := c.SetReadBuffer(16 << 20); err != nil {
		return fail(err)
	}
	if err := c.JoinGroup(unix.RTNLGRP_LINK); err != nil {
		return fail(err)
	}
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: socket, DB: 6, DisableIdentity: true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fail(err)
	}
	fmt.Println("relay ready")
	d := netlinkrx.NewDecoder()
	for {
		msgs, err := c.Receive()
		if errors.Is(err, unix.ENOBUFS) {
			continue
		}
		if err != nil {
			return fail(err)
		}
		for _, m := range msgs {
			ev, err := d.Decode(uint16(m.Header.Type), m.Data)
			if err != nil || ev.Kind != messages.NewLink {
				continue
			}
			rdb.HSet(ctx, "PORT_TABLE|"+ev.Name, "state", "ok",
				"netdev_oper_status", upDown(ev.OperUp()), "admin_status", upDown(ev.AdminUp()), "mtu", ev.MTU)
		}
	}
}

func upDown(b bool) string {
	if b {
		return "up"
	}
	return "down"
}
