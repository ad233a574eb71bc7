package logging

import (
	"log/slog"
	"strconv"
	"time"
)

// Syslog formats (--syslog-format).
const (
	// SyslogFormatAuto is RFC 3164 on a local socket (unixgram://), where
	// the reader is rsyslog's or journald's /dev/log, and RFC 5424 to a
	// remote collector (udp://, tcp://).
	SyslogFormatAuto = "auto"
	// SyslogFormatRFC3164 is what glibc's syslog(3) sends to /dev/log:
	// "<PRI>Mmm dd hh:mm:ss portsyncd: message key=value ...". rsyslog's
	// local input parses it with its default parser, so its templates see
	// the program name, the severity and the message as they do for every
	// other SONiC daemon.
	SyslogFormatRFC3164 = "rfc3164"
	// SyslogFormatRFC5424 is RFC 5424 with structured data (see syslog.go),
	// for collectors that index on it.
	SyslogFormatRFC5424 = "rfc5424"
)

// maxLocalMessage caps an RFC 3164 line: rsyslog's default
// $MaxMessageSize is 8 KiB, and it would cut a longer one itself, without
// regard for UTF-8.
const maxLocalMessage = 8 << 10

// rfc3164Encoder writes lines as glibc's syslog(3) writes them to /dev/log
// (misc/syslog.c: "<%d>", strftime "%h %e %T ", the tag, ": "), with no
// hostname, as on a local socket. The tag is the program name alone, as
// swss-common's Logger leaves it (no LOG_PID), so rsyslog's %syslogtag% is
// "portsyncd:" and SONiC's "swss#portsyncd:" greps match as they do for the
// original.
type rfc3164Encoder struct {
	facility int
	now      func() time.Time // for records without a time
}

func (e rfc3164Encoder) encode(b []byte, r slog.Record, fs []field) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(e.facility*8+Severity(r.Level)), 10)
	b = append(b, '>')
	t := r.Time
	if t.IsZero() {
		t = e.now()
	}
	// Local time, as glibc's localtime_r: the reader (rsyslog) assumes it.
	b = t.Local().AppendFormat(b, "Jan _2 15:04:05 ")
	b = append(b, AppName+": "...)
	b = appendValidUTF8(b, r.Message)
	b = appendLogfmt(b, fs)
	return truncateUTF8(b, maxLocalMessage)
}
