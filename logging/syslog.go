package logging

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Syslog output, RFC 5424 (for remote collectors; local sockets get RFC
// 3164 unless asked, see rfc3164.go):
//
//	<PRI>1 TIMESTAMP HOSTNAME portsyncd PID MSGID [port@32473 ...][meta@32473 ...] MSG
//
// 32473 is the private enterprise number that RFC 5612 reserves for
// documentation and examples: portsyncd has none of its own, and an SD-ID
// with "@" must carry one (RFC 5424 section 6.3.2). A site that registers a
// number can change SDPEN.
const (
	// SDPEN is the enterprise number of portsyncd's SD-IDs.
	SDPEN = "32473"
	// SDPort is the SD-ID of the element that describes the port a line is
	// about: name, ifindex, event, admin, oper, mtu.
	SDPort = "port@" + SDPEN
	// SDMeta is the SD-ID of the element holding every other attribute.
	SDMeta = "meta@" + SDPEN
	// DefaultSyslogAddr is where syslog lines go unless told otherwise.
	DefaultSyslogAddr = "unixgram:///dev/log"
	// AppName is the APP-NAME of syslog lines and the journal's
	// SYSLOG_IDENTIFIER.
	AppName = "portsyncd"
	// facilityUser is syslog facility 1 ("user"), glibc openlog's default.
	facilityUser = 1
	// maxSyslogMessage caps one line; longer ones are cut, at a UTF-8
	// boundary, in their MSG part. Structured data stays whole: each
	// PARAM-VALUE is cut at maxSDValue bytes, and if the meta element would
	// still take more than half a line it is left out (the attributes are
	// in MSG too).
	maxSyslogMessage = 16 << 10
	maxSDValue       = 1 << 10
)

// portParams maps the attribute keys that describe a port onto the
// PARAM-NAMEs of the [port@32473] element, in the order written.
var portParams = [...]struct{ key, param string }{
	{KeyPort, "name"},
	{KeyIfindex, "ifindex"},
	{KeyEvent, "event"},
	{KeyAdmin, "admin"},
	{KeyOper, "oper"},
	{KeyMTU, "mtu"},
}

// syslogEncoder writes RFC 5424 messages.
type syslogEncoder struct {
	facility int
	hostname string // already a valid HOSTNAME or "-"
	procid   string
}

func newSyslogEncoder() *syslogEncoder {
	host, _ := os.Hostname()
	return &syslogEncoder{
		facility: facilityUser,
		hostname: headerField(host, 255),
		procid:   strconv.Itoa(os.Getpid()),
	}
}

// headerField returns s as an RFC 5424 header field: PRINTUSASCII only, at
// most max bytes, "-" (NILVALUE) when empty.
func headerField(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; i++ {
		if c := s[i]; c > ' ' && c < 0x7f {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

func (e *syslogEncoder) encode(b []byte, r slog.Record, fs []field) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(e.facility*8+Severity(r.Level)), 10)
	b = append(b, ">1 "...)
	if r.Time.IsZero() {
		b = append(b, '-')
	} else {
		b = r.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	}
	b = append(b, ' ')
	b = append(b, e.hostname...)
	b = append(b, ' ')
	b = append(b, AppName...)
	b = append(b, ' ')
	b = append(b, e.procid...)
	b = append(b, ' ')
	b = appendMsgID(b, fs)
	b = append(b, ' ')

	sdStart := len(b)
	var used uint64 // bit i: fs[i] went into the port element (first 64)
	for _, p := range portParams {
		for i, f := range fs {
			if !f.is(p.key) {
				continue
			}
			if len(b) == sdStart {
				b = append(b, "["+SDPort...)
			}
			b = append(b, ' ')
			b = append(b, p.param...)
			b = append(b, `="`...)
			b = appendSDValue(b, f.val)
			b = append(b, '"')
			if i < 64 {
				used |= 1 << i
			}
			break
		}
	}
	if len(b) > sdStart {
		b = append(b, ']')
	}
	metaStart := len(b)
	for i, f := range fs {
		if i < 64 && used&(1<<i) != 0 {
			continue
		}
		if i >= 64 && isPortParam(f) {
			continue
		}
		if len(b) == metaStart {
			b = append(b, "["+SDMeta...)
		}
		b = append(b, ' ')
		b = appendParamName(b, f)
		b = append(b, `="`...)
		b = appendSDValue(b, f.val)
		b = append(b, '"')
	}
	if len(b) > metaStart {
		b = append(b, ']')
	}
	if len(b)-sdStart > maxSyslogMessage/2 {
		b = b[:metaStart]
	}
	if len(b) == sdStart {
		b = append(b, '-')
	}

	b = append(b, ' ')
	b = appendValidUTF8(b, r.Message)
	b = appendLogfmt(b, fs)
	return truncateUTF8(b, maxSyslogMessage)
}

func isPortParam(f field) bool {
	for _, p := range portParams {
		if f.is(p.key) {
			return true
		}
	}
	return false
}

// appendMsgID writes the event ("newlink", "dellink" ...) as MSGID, so that
// a collector can filter on it without parsing structured data; "-" when
// the line has none or it does not fit MSGID's syntax (1-32 PRINTUSASCII).
func appendMsgID(b []byte, fs []field) []byte {
	for _, f := range fs {
		if !f.is(KeyEvent) || f.val.Kind() != slog.KindString {
			continue
		}
		s := f.val.String()
		if len(s) == 0 || len(s) > 32 {
			break
		}
		for i := 0; i < len(s); i++ {
			if s[i] <= ' ' || s[i] >= 0x7f {
				return append(b, '-')
			}
		}
		return append(b, s...)
	}
	return append(b, '-')
}

// appendParamName writes prefix+key as a PARAM-NAME: 1 to 32 PRINTUSASCII
// characters other than '=', ' ', ']' and '"'; others become '_'.
func appendParamName(b []byte, f field) []byte {
	n := 0
	for _, s := range [2]string{f.prefix, f.key} {
		for i := 0; i < len(s) && n < 32; i++ {
			c := s[i]
			if c <= ' ' || c >= 0x7f || c == '=' || c == ']' || c == '"' {
				c = '_'
			}
			b = append(b, c)
			n++
		}
	}
	if n == 0 {
		b = append(b, '_')
	}
	return b
}

// appendSDValue writes v as a PARAM-VALUE: UTF-8, with '"', '\' and ']'
// escaped by a backslash (RFC 5424 section 6.3.3).
// Values longer than maxSDValue bytes are cut at a character boundary.
func appendSDValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendEscaped(b, v.String(), maxSDValue)
	case slog.KindAny, slog.KindDuration, slog.KindTime:
		return appendEscaped(b, string(appendText(nil, v)), maxSDValue)
	default: // numbers and booleans: short, nothing to escape
		return appendText(b, v)
	}
}

// appendEscaped appends s, escaped, in at most limit bytes.
func appendEscaped(b []byte, s string, limit int) []byte {
	limit += len(b)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			esc := c == '"' || c == '\\' || c == ']'
			if len(b)+1+btoi(esc) > limit {
				break
			}
			if esc {
				b = append(b, '\\')
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			if len(b)+3 > limit {
				break
			}
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			if len(b)+n > limit {
				break
			}
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func appendValidUTF8(b []byte, s string) []byte {
	if utf8.ValidString(s) {
		return append(b, s...)
	}
	return append(b, strings.ToValidUTF8(s, "\uFFFD")...)
}

// truncateUTF8 cuts b to at most max bytes without splitting a character.
func truncateUTF8(b []byte, max int) []byte {
	if len(b) <= max {
		return b
	}
	b = b[:max]
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if r, n := utf8.DecodeLastRune(b); r != utf8.RuneError || n != 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

// ParseSyslogAddr parses a --syslog-addr: unixgram://PATH, udp://HOST:PORT
// or tcp://HOST:PORT; "" is DefaultSyslogAddr.
func ParseSyslogAddr(addr string) (network, address string, err error) {
	if addr == "" {
		addr = DefaultSyslogAddr
	}
	network, address, ok := strings.Cut(addr, "://")
	if !ok || address == "" {
		return "", "", fmt.Errorf("logging: syslog address %q: want unixgram://PATH, udp://HOST:PORT or tcp://HOST:PORT", addr)
	}
	switch network {
	case "unixgram":
	case "udp", "tcp":
		if _, _, err := net.SplitHostPort(address); err != nil {
			return "", "", fmt.Errorf("logging: syslog address %q: %w", addr, err)
		}
	default:
		return "", "", fmt.Errorf("logging: syslog address %q: network %q: want unixgram, udp or tcp", addr, network)
	}
	return network, address, nil
}

// NewSyslogHandler returns a handler that sends lines to addr (see
// ParseSyslogAddr) in format (SyslogFormatAuto or "": RFC 3164 on
// unixgram, RFC 5424 on udp and tcp) through a queue of the given length
// (0: DefaultQueue). Close the returned sink to flush it.
func NewSyslogHandler(addr, format string, level slog.Leveler, queue int) (slog.Handler, *Sink, error) {
	network, address, err := ParseSyslogAddr(addr)
	if err != nil {
		return nil, nil, err
	}
	enc, err := syslogEncoderFor(network, format)
	if err != nil {
		return nil, nil, err
	}
	f := datagram
	if network == "tcp" {
		f = octetCounting
	}
	dial := func() (net.Conn, error) { return net.DialTimeout(network, address, time.Second) }
	s := newSink(queue, f, dial)
	return &queueHandler{level: level, enc: enc, sink: s}, &Sink{s}, nil
}

// syslogEncoderFor returns the encoder of format on network.
func syslogEncoderFor(network, format string) (encoder, error) {
	switch format {
	case "", SyslogFormatAuto:
		if network == "unixgram" {
			return rfc3164Encoder{facility: facilityUser, now: time.Now}, nil
		}
		return newSyslogEncoder(), nil
	case SyslogFormatRFC3164:
		return rfc3164Encoder{facility: facilityUser, now: time.Now}, nil
	case SyslogFormatRFC5424:
		return newSyslogEncoder(), nil
	}
	return nil, fmt.Errorf("logging: syslog format %q: want auto, rfc3164 or rfc5424", format)
}

// Sink is the queue and writer behind a syslog or journald handler.
type Sink struct{ s *sink }

// Dropped returns how many lines this output has dropped.
func (s *Sink) Dropped() uint64 { return s.s.dropped.Load() }

// Close flushes what is queued (waiting at most two seconds) and stops the
// writer; later lines are dropped.
func (s *Sink) Close() error { return s.s.Close() }
