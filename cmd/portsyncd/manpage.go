package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/sonic-go/portsyncd/buildinfo"
)

// runManpage is "portsyncd manpage": it writes portsyncd(8) in roff to
// stdout. Its OPTIONS sections are walked from the same flag sets that run
// and runStatus parse, so the page cannot drift from the binary;
// scripts/package.sh ships what the packaged binary itself prints. Not
// listed in --help: it is for packagers.
func runManpage(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "portsyncd manpage: unexpected argument %q: it takes none\n", args[0])
		return ExitUsage
	}
	daemonFS, _ := newDaemonFlagSet()
	statusFS, _ := newStatusFlagSet()
	doctorFS, _ := newDoctorFlagSet()
	fmt.Fprint(stdout, manpage(buildinfo.Get(), daemonFS, statusFS, doctorFS))
	return ExitOK
}

// manpage returns the page for a build, with the flags of the daemon and of
// the status and doctor subcommands.
func manpage(bi buildinfo.Info, daemonFS, statusFS, doctorFS *flag.FlagSet) string {
	var b strings.Builder
	date := bi.Date
	if len(date) >= len("2006-01-02") {
		date = date[:len("2006-01-02")]
	}
	fmt.Fprintf(&b, ".TH PORTSYNCD 8 %q %q \"System Administration\"\n", date, "portsyncd "+bi.Version)
	b.WriteString(`.SH NAME
portsyncd \- mirror Linux link state into SONiC's Redis databases
.SH SYNOPSIS
.B portsyncd
.RI [ flags ]
.br
.B portsyncd status
.RI [ flags ]
.br
.B portsyncd doctor
.RI [ flags ]
.SH DESCRIPTION
.B portsyncd
follows the kernel's rtnetlink link events (RTM_NEWLINK, RTM_DELLINK) in its
network namespace and keeps SONiC's databases in step with them, as SONiC's
own portsyncd does: at start-up it copies the port configuration from
CONFIG_DB PORT into APPL_DB PORT_TABLE and publishes PortConfigDone; then it
writes each front-panel port's admin state, operational state and MTU into
STATE_DB PORT_TABLE, and publishes PortInitDone once every configured port
has appeared.
.PP
It logs to stderr, syslog or the journal (see
.BR \-\-log\-output ),
at the level CONFIG_DB LOGGER|portsyncd LOGLEVEL names, followed at run time.
Under systemd it sends READY=1 after its initial sync and pings the watchdog
while healthy.
.PP
.B portsyncd status
prints every port as CONFIG_DB, APPL_DB, STATE_DB and the kernel see it.
.PP
.B portsyncd doctor
checks the host for portsyncd (kernel settings, limits, scheduling,
database_config.json, every database, CONFIG_DB ports, keyspace events, the
single-instance guard, a running daemon's /readyz), one row per check: OK,
WARN or FAIL, the value found, the value wanted and the fix.
.SH OPTIONS
`)
	writeFlags(&b, daemonFS)
	b.WriteString(".SH \"STATUS OPTIONS\"\n")
	writeFlags(&b, statusFS)
	b.WriteString(".SH \"DOCTOR OPTIONS\"\n")
	writeFlags(&b, doctorFS)
	b.WriteString(`.SH "EXIT STATUS"
.TP
.B 0
stopped cleanly (SIGTERM or SIGINT, pending writes drained), or
.BR \-\-help ,
.BR \-\-version .
.TP
.B 1
failed at run time: actors kept failing, or did not answer.
.TP
.B 2
a Go panic or fatal runtime error (never a configuration error).
.TP
.B 64
usage error: an unknown flag, a value out of range, an argument.
.TP
.B 78
configuration error: database_config.json missing or malformed, a database
missing, Redis refusing the credentials, another portsyncd on the same
namespace and databases.
.PP
.B portsyncd status
exits 0 when every port agrees with the kernel, 1 when one differs, 3 when
Redis or the kernel could not be read, and 64 or 78 as above.
.B portsyncd doctor
exits 0 when no check fails, 1 when one does, 64 on a usage error.
.SH SIGNALS
.TP
.BR SIGTERM ", " SIGINT
stop reading the kernel, drain pending writes to Redis (at most 1.5 s), exit 0.
.TP
.B SIGHUP
dump every link again and reconcile STATE_DB with it.
.TP
.B SIGUSR1
write a JSON state dump to
.BR \-\-dump\-dir .
.SH FILES
.TP
.I /var/run/redis/sonic\-db/database_config.json
where SONiC's databases are.
.TP
.I /run/portsyncd
the single-instance lock and the state dumps.
.TP
.I /lib/systemd/system/portsyncd.service
.TQ
.I /lib/systemd/system/portsyncd@.service
the systemd units: one instance, or one per network namespace
.RI ( portsyncd@asic0 ).
.TP
.I /usr/share/doc/portsyncd/examples/supervisord/portsyncd.conf
the [program:portsyncd] block for SONiC's swss container.
.SH "SEE ALSO"
.BR systemd.service (5),
.BR rsyslogd (8),
.BR journalctl (1)
`)
	return b.String()
}

// writeFlags writes one .TP paragraph per flag of fs, in name order: the
// flag, its argument's name, its usage text and its default.
func writeFlags(b *strings.Builder, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		b.WriteString(".TP\n\\fB\\-\\-" + roffEscape(f.Name) + "\\fR")
		if arg != "" {
			b.WriteString(" \\fI" + roffEscape(arg) + "\\fR")
		}
		b.WriteString("\n" + roffText(usage))
		if def := f.DefValue; def != "" && def != "false" && def != "0" {
			b.WriteString("\n(default: " + roffEscape(def) + ")")
		}
		b.WriteString("\n")
	})
}

// roffEscape escapes backslashes and hyphens, so that flag names and values
// copy and paste as typed.
func roffEscape(s string) string {
	return strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
}

// roffText makes s safe as a roff text line: backslashes escaped, and a
// line starting with a dot or an apostrophe (a request to roff) guarded.
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	var out []string
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			line = `\&` + line
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
