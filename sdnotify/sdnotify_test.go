package sdnotify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// guard bounds every wait for something that must happen, so that a broken
// implementation fails instead of hanging; nothing is asserted about time.
const guard = 10 * time.Second

// notifySocket binds a unixgram socket like systemd's notify socket, with
// SO_PASSCRED on so that the sender's pid arrives with each datagram, and
// points NOTIFY_SOCKET at it.
func notifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn-") // short: a socket path has 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("bind notify socket: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	raw, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
	}); err != nil || serr != nil {
		t.Fatalf("SO_PASSCRED: %v %v", err, serr)
	}
	t.Setenv("NOTIFY_SOCKET", path)
	return conn
}

// datagram is one notification and the pid that sent it.
type datagram struct {
	msg string
	pid int32
}

// receive waits for the next datagram.
func receive(t *testing.T, conn *net.UnixConn) datagram {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(guard)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	d := datagram{msg: string(buf[:n]), pid: -1}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err == nil && len(msgs) == 1 {
		if cred, err := unix.ParseUnixCredentials(&msgs[0]); err == nil {
			d.pid = cred.Pid
		}
	}
	return d
}

// queued returns the datagrams already waiting on conn, without waiting.
func queued(t *testing.T, conn *net.UnixConn) []string {
	t.Helper()
	raw, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	buf := make([]byte, 4096)
	var rerr error
	for {
		var n int
		if err := raw.Read(func(fd uintptr) bool {
			n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if errors.Is(rerr, unix.EAGAIN) {
			return got
		}
		if rerr != nil {
			t.Fatalf("recvfrom: %v", rerr)
		}
		got = append(got, string(buf[:n]))
	}
}

func TestReadyStoppingStatus(t *testing.T) {
	conn := notifySocket(t)
	for _, tt := range []struct {
		name string
		send func() error
		want string
	}{
		{"ready", Ready, "READY=1"},
		{"status", func() error { return Status("syncing 32 ports") }, "STATUS=syncing 32 ports"},
		{"status newline", func() error { return Status("a\nb") }, "STATUS=a b"},
		{"stopping", Stopping, "STOPPING=1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.send(); err != nil {
				t.Fatalf("send: %v", err)
			}
			d := receive(t, conn)
			if d.msg != tt.want {
				t.Errorf("got %q, want %q", d.msg, tt.want)
			}
			if d.pid != int32(os.Getpid()) {
				t.Errorf("sender pid %d, want %d", d.pid, os.Getpid())
			}
		})
	}
}

func TestNoNotifySocketSendsNothing(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "2000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	for name, send := range map[string]func() error{
		"ready": Ready, "stopping": Stopping, "status": func() error { return Status("x") },
	} {
		if err := send(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Never healthy, so a loop that does not notice the missing socket
	// never finds out by sending: it must return at once.
	if err := runWatchdog(t, context.Background(), func() bool { return false }); err != nil {
		t.Errorf("Watchdog: %v", err)
	}
}

func TestNotifySocketGoneIsAnError(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "nobody"))
	if err := Ready(); err == nil {
		t.Errorf("Ready to a socket nobody bound: no error")
	}
	t.Setenv("WATCHDOG_USEC", "2000")
	t.Setenv("WATCHDOG_PID", "")
	if err := runWatchdog(t, context.Background(), func() bool { return true }); err == nil {
		t.Errorf("Watchdog pinging a socket nobody bound: no error")
	}
}

// runWatchdog runs Watchdog and returns its result; the test fails if it
// does not return.
func runWatchdog(t *testing.T, ctx context.Context, healthy func() bool) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Watchdog(ctx, healthy) }()
	select {
	case err := <-done:
		return err
	case <-time.After(guard):
		t.Fatalf("Watchdog did not return")
		return nil
	}
}

func TestWatchdogNotEnabled(t *testing.T) {
	conn := notifySocket(t)
	never := func() bool { t.Error("healthy called while the watchdog is off"); return true }
	for _, tt := range []struct {
		name, usec, pid string
		wantErr         bool
	}{
		{name: "no WATCHDOG_USEC", usec: "", pid: ""},
		{name: "another process's watchdog", usec: "2000", pid: strconv.Itoa(os.Getpid() + 1)},
		{name: "malformed WATCHDOG_USEC", usec: "soon", wantErr: true},
		{name: "malformed WATCHDOG_PID", usec: "2000", pid: "me", wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WATCHDOG_USEC", tt.usec)
			t.Setenv("WATCHDOG_PID", tt.pid)
			err := runWatchdog(t, context.Background(), never)
			if (err != nil) != tt.wantErr {
				t.Errorf("Watchdog: err %v, want error %v", err, tt.wantErr)
			}
		})
	}
	if got := queued(t, conn); len(got) != 0 {
		t.Errorf("sent %q with the watchdog off", got)
	}
}

// The watchdog is stepped one tick at a time: healthy blocks until the test
// answers, so each answer is handed to exactly one tick, and a second
// answer taken proves the previous tick has finished (and sent whatever it
// was going to send: a unixgram send is queued before write returns).
func TestWatchdogPingsOnlyWhileHealthy(t *testing.T) {
	conn := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "2000") // ticks every millisecond
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	ctx, cancel := context.WithCancel(context.Background())
	answers := make(chan bool)
	healthy := func() bool {
		select {
		case ok := <-answers:
			return ok
		case <-ctx.Done():
			return false
		}
	}
	done := make(chan error, 1)
	go func() { done <- Watchdog(ctx, healthy) }()
	answer := func(ok bool) {
		t.Helper()
		select {
		case answers <- ok:
		case err := <-done:
			t.Fatalf("Watchdog returned early: %v", err)
		case <-time.After(guard):
			t.Fatalf("Watchdog stopped asking whether the daemon is healthy")
		}
	}
	expectPing := func(when string) {
		t.Helper()
		if d := receive(t, conn); d.msg != "WATCHDOG=1" {
			t.Fatalf("%s: got %q, want WATCHDOG=1", when, d.msg)
		}
	}

	for i := range 3 {
		answer(true)
		expectPing(fmt.Sprintf("healthy tick %d", i))
	}
	answer(false)
	for i := range 3 {
		answer(false) // the previous unhealthy tick is over
		if got := queued(t, conn); len(got) != 0 {
			t.Fatalf("unhealthy tick %d sent %q", i, got)
		}
	}
	answer(true)
	expectPing("healthy again")
	answer(true)
	expectPing("still healthy")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watchdog after cancel: %v", err)
		}
	case <-time.After(guard):
		t.Fatalf("Watchdog did not return after cancel")
	}
}

// A real child process, started the way systemd starts a Type=notify
// service, reaches the socket with READY=1 and watchdog pings sent from its
// own pid (what NotifyAccess=main accepts).
func TestChildProcessNotifies(t *testing.T) {
	conn := notifySocket(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestChildProcessNotifies$")
	cmd.Env = append(os.Environ(), "SDNOTIFY_HELPER=1", "WATCHDOG_USEC=20000")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	want := []string{"READY=1", "WATCHDOG=1", "WATCHDOG=1"}
	for i, w := range want {
		d := receive(t, conn)
		if d.msg != w {
			t.Fatalf("datagram %d: got %q, want %q", i, d.msg, w)
		}
		if d.pid != int32(cmd.Process.Pid) {
			t.Errorf("datagram %d from pid %d, want the child's %d", i, d.pid, cmd.Process.Pid)
		}
	}
}

// TestMain turns the test binary into the notifying child when
// SDNOTIFY_HELPER is set: it announces READY and pings until killed.
func TestMain(m *testing.M) {
	if os.Getenv("SDNOTIFY_HELPER") == "1" {
		if err := Ready(); err != nil {
			fmt.Fprintln(os.Stderr, "child: Ready:", err)
			os.Exit(1)
		}
		if err := Watchdog(context.Background(), func() bool { return true }); err != nil {
			fmt.Fprintln(os.Stderr, "child: Watchdog:", err)
		}
		os.Exit(1) // Watchdog returns only on error
	}
	os.Exit(m.Run())
}

func TestHeartbeat(t *testing.T) {
	var h Heartbeat
	if h.Within(time.Hour)() {
		t.Errorf("healthy before the first beat")
	}
	h.Beat()
	if !h.Within(time.Hour)() {
		t.Errorf("not healthy right after a beat")
	}
	stale := h.Within(time.Nanosecond)
	before := time.Now()
	for time.Since(before) < time.Millisecond {
		time.Sleep(time.Millisecond)
	}
	if stale() {
		t.Errorf("healthy a millisecond after the last beat with maxAge 1ns")
	}
	h.Beat()
	if !h.Within(time.Hour)() {
		t.Errorf("not healthy after beating again")
	}
}

// pings records the arrival time of each datagram from conn until stop is
// closed, on its own goroutine; its result is ready once done is closed.
type pings struct {
	at   []time.Time
	msgs []string
	done chan struct{}
}

func recordPings(t *testing.T, conn *net.UnixConn, stop <-chan struct{}) *pings {
	t.Helper()
	p := &pings{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				continue // deadline: look at stop again
			}
			p.at = append(p.at, time.Now())
			p.msgs = append(p.msgs, string(buf[:n]))
		}
	}()
	return p
}

// The issue 16 case: systemd arms the watchdog at READY=1 and kills after a
// whole WATCHDOG_USEC without a ping. With WATCHDOG_USEC of 1 s and of 500 ms
// and a daemon whose health check runs at HeartbeatPeriod, READY=1 carries
// the first ping and no gap between pings reaches WATCHDOG_USEC; the pings
// come every half interval, not in a busy loop.
func TestPingerTimingWithHeartbeat(t *testing.T) {
	for _, interval := range []time.Duration{time.Second, 500 * time.Millisecond} {
		t.Run(interval.String(), func(t *testing.T) {
			conn := notifySocket(t)
			t.Setenv("WATCHDOG_USEC", strconv.FormatInt(interval.Microseconds(), 10))
			t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
			got, err := WatchdogInterval()
			if err != nil || got != interval {
				t.Fatalf("WatchdogInterval() = %v, %v; want %v", got, err, interval)
			}
			// The daemon's heartbeat: a round of answers every period,
			// here always good, as the actors' watchdog would beat.
			every := HeartbeatPeriod(got, 2*time.Second)
			if every != interval/4 {
				t.Fatalf("HeartbeatPeriod = %v, want %v", every, interval/4)
			}
			var hb Heartbeat
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			beating := make(chan struct{})
			go func() {
				defer close(beating)
				tk := time.NewTicker(every)
				defer tk.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tk.C:
						hb.Beat()
					}
				}
			}()
			p := NewPinger(got, hb.Within(2*every))
			runDone := make(chan error, 1)
			go func() { runDone <- p.Run(ctx) }()

			// Start-up takes a while; then the initial sync is done.
			stop := make(chan struct{})
			rec := recordPings(t, conn, stop)
			hb.Beat()
			if err := p.Ready(); err != nil {
				t.Fatal(err)
			}
			readyAt := time.Now()
			window := 6 * interval
			time.Sleep(window) // the observation window itself, not synchronisation
			close(stop)
			<-rec.done
			cancel()
			<-beating
			if err := <-runDone; err != nil {
				t.Errorf("Run: %v", err)
			}

			var afterReady []time.Time
			sawReady := false
			for i, m := range rec.msgs {
				switch m {
				case "READY=1\nWATCHDOG=1":
					sawReady = true
					afterReady = append(afterReady[:0], rec.at[i])
				case "WATCHDOG=1":
					if sawReady {
						afterReady = append(afterReady, rec.at[i])
					}
				default:
					t.Errorf("unexpected datagram %q", m)
				}
			}
			if !sawReady {
				t.Fatalf("no \"READY=1\\nWATCHDOG=1\" datagram; got %q", rec.msgs)
			}
			if d := afterReady[0].Sub(readyAt); d > interval/10 {
				t.Errorf("READY=1 arrived %v after Ready()", d)
			}
			last := afterReady[len(afterReady)-1]
			if gap := readyAt.Add(window).Sub(last); gap >= interval {
				t.Errorf("no ping in the last %v of the window", gap)
			}
			for i := 1; i < len(afterReady); i++ {
				if gap := afterReady[i].Sub(afterReady[i-1]); gap >= interval {
					t.Errorf("ping %d came %v after the previous one: systemd would have killed the daemon (WATCHDOG_USEC %v)", i, gap, interval)
				}
			}
			// Every half interval, give or take one: not a busy loop.
			if n, want := len(afterReady), int(window/(interval/2)); n > want+2 {
				t.Errorf("%d pings in %v, want about %d (one every %v)", n, window, want, interval/2)
			}
		})
	}
}

// A wedged daemon (no more beats) stops the pings within half an interval
// of its last good round plus one period, and they stay stopped.
func TestPingerStopsWhenHeartbeatStops(t *testing.T) {
	conn := notifySocket(t)
	interval := 500 * time.Millisecond
	every := HeartbeatPeriod(interval, 2*time.Second)
	var hb Heartbeat
	hb.Beat()
	p := NewPinger(interval, hb.Within(2*every))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- p.Run(ctx) }()
	if d := receive(t, conn); d.msg != "WATCHDOG=1" {
		t.Fatalf("first datagram %q, want WATCHDOG=1", d.msg)
	}
	lastBeat := time.Now() // no Beat after this
	stop := make(chan struct{})
	rec := recordPings(t, conn, stop)
	time.Sleep(3 * interval) // the observation window
	close(stop)
	<-rec.done
	for i, at := range rec.at {
		if at.Sub(lastBeat) > 2*every+interval/2+interval/10 {
			t.Errorf("ping %d (%q) %v after the last beat", i, rec.msgs[i], at.Sub(lastBeat))
		}
	}
	cancel()
	if err := <-runDone; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// Ready without a watchdog, or while not healthy, is READY=1 alone: a ping
// is never sent for a daemon that has not shown it is healthy.
func TestPingerReadyWithoutPing(t *testing.T) {
	conn := notifySocket(t)
	for _, tt := range []struct {
		name     string
		interval time.Duration
		healthy  bool
	}{
		{"watchdog off", 0, true},
		{"not healthy", time.Second, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPinger(tt.interval, func() bool { return tt.healthy })
			if err := p.Ready(); err != nil {
				t.Fatal(err)
			}
			if d := receive(t, conn); d.msg != "READY=1" {
				t.Errorf("got %q, want READY=1", d.msg)
			}
		})
	}
}

func TestHeartbeatPeriod(t *testing.T) {
	for _, tt := range []struct{ interval, max, want time.Duration }{
		{0, 2 * time.Second, 2 * time.Second},
		{10 * time.Second, 2 * time.Second, 2 * time.Second},
		{time.Second, 2 * time.Second, 250 * time.Millisecond},
		{500 * time.Millisecond, 2 * time.Second, 125 * time.Millisecond},
	} {
		if got := HeartbeatPeriod(tt.interval, tt.max); got != tt.want {
			t.Errorf("HeartbeatPeriod(%v, %v) = %v, want %v", tt.interval, tt.max, got, tt.want)
		}
	}
}

func TestWatchdogIntervalNeedsSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "1000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	if got, err := WatchdogInterval(); got != 0 || err != nil {
		t.Errorf("WatchdogInterval() = %v, %v without NOTIFY_SOCKET; want 0, nil", got, err)
	}
}
