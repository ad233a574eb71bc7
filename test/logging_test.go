package test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/logging/logtest"
	"github.com/sonic-go/portsyncd/test/harness"
)

// The real daemon with --log-output syslog --syslog-format rfc5424 (a local
// socket gets RFC 3164 unless asked; rsyslog_test.go): RFC 5424 lines on a unixgram
// socket, port lines with the [port@32473] element, and a level change in
// CONFIG_DB LOGGER|portsyncd taking effect without a restart.
func TestIntegrationSyslogOutput(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0")
	// The operator's part: keyspace notifications, so the level change is
	// seen at once rather than at the next periodic read.
	if err := e.config.ConfigSet(context.Background(), "notify-keyspace-events", "Kh").Err(); err != nil {
		t.Fatal(err)
	}
	ifindex := e.ns.AddPort(t, "Ethernet0", e.peers) // there before the daemon: an old interface
	e.orch.Run(t)
	l := logtest.ListenSyslog(t, "unixgram")
	e.daemon = harness.StartDaemon(t, e.ns, "--db-config", e.dbConfig, "--log-output", "syslog", "--syslog-addr", l.Addr, "--syslog-format", "rfc5424")
	pid := strconv.Itoa(e.daemon.Cmd.Process.Pid)
	msg := func(prefix string) func(logtest.Message) bool {
		return func(m logtest.Message) bool { return strings.HasPrefix(m.Msg, prefix+" ") || m.Msg == prefix }
	}

	ready := l.WaitSyslog(t, waitFor, msg("ready"))
	if ready.AppName != "portsyncd" || ready.ProcID != pid || ready.Severity != 5 || ready.Facility != 1 {
		t.Errorf("ready: APP-NAME %q PROCID %q severity %d facility %d; want portsyncd %s 5 1",
			ready.AppName, ready.ProcID, ready.Severity, ready.Facility, pid)
	}
	if v, _ := ready.Param(logging.SDMeta, "ports_configured"); v != "1" {
		t.Errorf("ready: ports_configured=%q, want 1; SD %v", v, ready.SD)
	}
	old := l.WaitSyslog(t, waitFor, msg("old interface brought down"))
	if name, _ := old.Param(logging.SDPort, "name"); name != "Ethernet0" {
		t.Errorf("old interface: port name %q, want Ethernet0; SD %v", name, old.SD)
	}
	if idx, _ := old.Param(logging.SDPort, "ifindex"); idx != strconv.Itoa(ifindex) {
		t.Errorf("old interface: ifindex %q, want %d; SD %v", idx, ifindex, old.SD)
	}
	if strings.TrimSpace(e.daemon.Log()) != "" {
		t.Errorf("stderr not empty with --log-output syslog:\n%s", e.daemon.Log())
	}

	// DEBUG in CONFIG_DB: the daemon's debug lines appear.
	e.hset(e.config, "LOGGER|portsyncd", "LOGLEVEL", "DEBUG")
	l.WaitSyslog(t, waitFor, func(m logtest.Message) bool {
		to, _ := m.Param(logging.SDMeta, "to")
		return strings.HasPrefix(m.Msg, "log level changed") && to == "DEBUG"
	})
	e.ns.SetMTU(t, "Ethernet0", 9000) // an old interface's change: ignored, at DEBUG
	ignored := l.WaitSyslog(t, waitFor, func(m logtest.Message) bool {
		v, _ := m.Param(logging.SDMeta, "verdict")
		return strings.HasPrefix(m.Msg, "link event ") && v == "ignored:old_interface"
	})
	if name, _ := ignored.Param(logging.SDPort, "name"); name != "Ethernet0" || ignored.Severity != 7 {
		t.Errorf("ignored: port %q severity %d, want Ethernet0 and 7; SD %v", name, ignored.Severity, ignored.SD)
	}
}
