package test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/test/harness"
)

// sonicRsyslogConf is the part of SONiC's container rsyslog.conf
// (dockers/docker-base-*/etc/rsyslog.conf in sonic-buildimage) that decides
// what a daemon's line becomes: imuxsock with its default parser, rate
// limiting off, CONTAINER_NAME set and SONiC's file template. The socket,
// the work directory and the output file are private to the test.
const sonicRsyslogConf = `global(workDirectory="%[1]s")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="%[2]s" RateLimit.Interval="0")
template(name="SONiCFileFormat" type="string"
         string="%%TIMESTAMP%% %%HOSTNAME%% %%syslogseverity-text:::uppercase%% %%$.CONTAINER_NAME%%#%%syslogtag%%%%msg%%\n")
set $.CONTAINER_NAME = "swss";
*.* action(type="omfile" file="%[3]s" template="SONiCFileFormat")
`

// rsyslogd is a private rsyslogd, killed when the test ends.
type rsyslogd struct {
	socket string // where the daemon logs: imuxsock's socket
	out    string // the file SONiC's template writes
}

func startRsyslogd(t *testing.T) *rsyslogd {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		t.Skip("rsyslogd not installed (scripts/test.sh installs Debian's rsyslog)")
	}
	dir, err := os.MkdirTemp("", "psd-rsyslog-") // short: a socket path has 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	r := &rsyslogd{socket: filepath.Join(dir, "log"), out: filepath.Join(dir, "syslog")}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, sonicRsyslogConf, work, r.socket, r.out), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-N1", "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("rsyslogd -N1 (configuration check): %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	// rsyslogd binds its inputs before it reads from them; datagrams sent
	// once the socket exists wait in its queue.
	harness.Eventually(t, waitFor, func() bool {
		select {
		case <-exited:
			t.Fatalf("rsyslogd exited: %s", stderr.String())
		default:
		}
		st, err := os.Stat(r.socket)
		return err == nil && st.Mode().Type() == os.ModeSocket
	}, func() string { return "rsyslogd did not create " + r.socket + ": " + stderr.String() })
	return r
}

// lines returns what rsyslogd has written so far.
func (r *rsyslogd) lines(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(r.out)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// wait returns the first line that match accepts, waiting for rsyslogd to
// write it.
func (r *rsyslogd) wait(t *testing.T, what string, match func(sonicLine) bool) sonicLine {
	t.Helper()
	var got sonicLine
	harness.Eventually(t, waitFor, func() bool {
		for _, l := range r.lines(t) {
			if s, ok := parseSONiCLine(l); ok && match(s) {
				got = s
				return true
			}
		}
		return false
	}, func() string { return "no " + what + " in rsyslog's output:\n" + strings.Join(r.lines(t), "\n") })
	return got
}

// sonicLine is one line of SONiC's file format.
type sonicLine struct {
	severity, container, tag, msg string
}

// "Jan  5 09:11:12 host SEVERITY swss#portsyncd: message"
var sonicLineRE = regexp.MustCompile(`^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ ([A-Z]+) ([^#]*)#(\S+?:)(.*)$`)

func parseSONiCLine(l string) (sonicLine, bool) {
	m := sonicLineRE.FindStringSubmatch(l)
	if m == nil {
		return sonicLine{}, false
	}
	return sonicLine{severity: m[1], container: m[2], tag: m[3], msg: m[4]}, true
}

// Issue 16: the real daemon logging to /dev/log as SONiC's swss container
// has it, through a real rsyslogd with SONiC's configuration. Every line
// comes out as the original's do ("NOTICE swss#portsyncd: ..."): the
// program is portsyncd, each line has its own severity, a state change is
// a NOTICE naming the port and its new MTU, a forged netlink datagram a
// WARNING, and no syslog header is left inside a message.
func TestIntegrationRsyslogSONiCFormat(t *testing.T) {
	rs := startRsyslogd(t)
	e := newEnv(t)
	e.configure("Ethernet0", "Ethernet4")
	e.orch.Run(t)
	// The syslog format is left to the daemon: auto is RFC 3164 on a
	// local socket.
	e.daemon = harness.StartDaemon(t, e.ns, e.args("--log-output", "syslog", "--syslog-addr", "unixgram://"+rs.socket)...)
	rs.wait(t, "ready line", func(l sonicLine) bool { return strings.HasPrefix(l.msg, " ready ") })
	e.waitAppl("Ethernet0")
	e.ns.AddPort(t, "Ethernet0", e.peers)
	e.waitState("Ethernet0", want("up", "up", 1500))
	e.ns.SetMTU(t, "Ethernet0", 9000)
	e.waitState("Ethernet0", want("up", "up", 9000))
	mtu := rs.wait(t, "state change to MTU 9000", func(l sonicLine) bool {
		return strings.Contains(l.msg, "port state written") && strings.Contains(l.msg, " mtu=9000")
	})
	if mtu.severity != "NOTICE" || !strings.Contains(mtu.msg, " port=Ethernet0 ") || !strings.Contains(mtu.msg, " old_mtu=1500") {
		t.Errorf("state change: %+v; want NOTICE naming port=Ethernet0, mtu=9000, old_mtu=1500", mtu)
	}

	// A forged datagram: a warning.
	forger := harness.NewForger(t, e.ns)
	for _, id := range harness.NetlinkPortIDs(t, e.daemon.Cmd.Process.Pid) {
		forger.Send(t, id, forgedLink(t, unix.RTM_NEWLINK, uint32(e.ns.Link(t, "Ethernet0").Ifindex), "Ethernet0", 4242))
	}
	warn := rs.wait(t, "forged datagram warning", func(l sonicLine) bool {
		return strings.Contains(l.msg, "netlink datagram not from the kernel dropped")
	})
	if warn.severity != "WARNING" || !strings.Contains(warn.msg, "sender_pid=") {
		t.Errorf("forged datagram: %+v; want WARNING with sender_pid", warn)
	}

	// SIGTERM: the drain's lines reach rsyslog before the exit.
	e.daemon.Signal(t, syscall.SIGTERM)
	if code, err := e.daemon.Wait(waitFor); err != nil || code != 0 {
		t.Errorf("exit %d, %v after SIGTERM", code, err)
	}
	rs.wait(t, "stopped line", func(l sonicLine) bool { return l.msg == " stopped" })

	header := regexp.MustCompile(`<\d+>|portsyncd\[\d+\]|\b1 \d{4}-\d\d-\d\dT|\[(port|meta)@\d+`)
	lines := rs.lines(t)
	for _, l := range lines {
		s, ok := parseSONiCLine(l)
		switch {
		case !ok:
			t.Errorf("not in SONiC's format: %q", l)
		case s.container != "swss" || s.tag != "portsyncd:":
			t.Errorf("container %q tag %q, want swss and portsyncd: (so that \"swss#portsyncd:\" greps match): %q", s.container, s.tag, l)
		case header.MatchString(s.msg):
			t.Errorf("syslog header left inside the message: %q", l)
		}
	}
	if strings.TrimSpace(e.daemon.Log()) != "" {
		t.Errorf("stderr not empty with rsyslog reachable:\n%s", e.daemon.Log())
	}
	t.Logf("rsyslog's output, as show logging prints it:\n%s", strings.Join(lines, "\n"))
}
