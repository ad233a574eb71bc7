package logging

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// DefaultJournalSocket is where journald takes native-protocol datagrams.
const DefaultJournalSocket = "/run/systemd/journal/socket"

// journalEncoder writes the journal's native protocol
// (systemd.io/JOURNAL_NATIVE_PROTOCOL): one datagram per entry (or a memfd,
// for an entry too large for one), one field per line as NAME=value, or, for a value holding a newline, NAME, a newline,
// the value's length as a 64-bit little-endian integer, the value and a
// newline.
type journalEncoder struct{}

// journalReserved are the fields the encoder sets itself; an attribute that
// would map onto one is written with an ATTR_ prefix instead.
var journalReserved = map[string]bool{"MESSAGE": true, "PRIORITY": true, "SYSLOG_IDENTIFIER": true}

func (journalEncoder) encode(b []byte, r slog.Record, fs []field) []byte {
	start := len(b)
	b = append(b, "MESSAGE="...)
	b = append(b, r.Message...)
	b = appendLogfmt(b, fs)
	b = binaryIfMultiline(b, start+len("MESSAGE"))
	b = append(b, "\nPRIORITY="...)
	b = strconv.AppendInt(b, int64(Severity(r.Level)), 10)
	b = append(b, "\nSYSLOG_IDENTIFIER="+AppName+"\n"...)
	for _, f := range fs {
		b = appendJournalName(b, f)
		eq := len(b)
		b = append(b, '=')
		b = appendText(b, f.val)
		b = binaryIfMultiline(b, eq)
		b = append(b, '\n')
	}
	return b
}

// binaryIfMultiline rewrites the field whose '=' is at b[eq] and whose value
// runs to the end of b into the length-prefixed form when the value holds a
// newline.
func binaryIfMultiline(b []byte, eq int) []byte {
	val := b[eq+1:]
	if bytes.IndexByte(val, '\n') < 0 {
		return b
	}
	n := len(val)
	b = append(b, make([]byte, 8)...)
	copy(b[eq+9:], b[eq+1:eq+1+n])
	b[eq] = '\n'
	binary.LittleEndian.PutUint64(b[eq+1:eq+9], uint64(n))
	return b
}

// appendJournalName writes prefix+key as a journal field name: upper case
// letters, digits and '_', at most 64 bytes, not starting with a digit or
// '_' (fields starting with '_' are journald's own, trusted ones).
func appendJournalName(b []byte, f field) []byte {
	start := len(b)
	for _, s := range [2]string{f.prefix, f.key} {
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= 'a' && c <= 'z':
				c -= 'a' - 'A'
			case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			default:
				c = '_'
			}
			b = append(b, c)
		}
	}
	name := b[start:]
	if len(name) == 0 || name[0] == '_' || (name[0] >= '0' && name[0] <= '9') || journalReserved[string(name)] {
		const pfx = "ATTR_"
		n := len(name)
		b = append(b, pfx...)
		copy(b[start+len(pfx):], b[start:start+n])
		copy(b[start:], pfx)
	}
	if len(b)-start > 64 {
		b = b[:start+64]
	}
	return b
}

// JournalStream reports whether stderr is connected to the journal, as
// systemd says through $JOURNAL_STREAM ("DEVICE:INODE" of the stream it
// handed the service, in decimal): then journald output is what a service
// should use (systemd.exec(5)).
func JournalStream(env string, stderr *os.File) bool {
	if env == "" || stderr == nil {
		return false
	}
	dev, ino, ok := strings.Cut(env, ":")
	if !ok {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(stderr.Fd()), &st); err != nil {
		return false
	}
	return dev == strconv.FormatUint(uint64(st.Dev), 10) && ino == strconv.FormatUint(st.Ino, 10)
}

// NewJournalHandler returns a handler that sends entries over the journal's
// native protocol to the unixgram socket at path ("": DefaultJournalSocket)
// through a queue of the given length (0: DefaultQueue).
//
// Not go-systemd's journal.Send: its socket path is fixed, it takes fields
// as a map (no order), and writes on the caller's goroutine.
func NewJournalHandler(path string, level slog.Leveler, queue int) (slog.Handler, *Sink) {
	if path == "" {
		path = DefaultJournalSocket
	}
	dial := func() (net.Conn, error) {
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			return nil, fmt.Errorf("logging: journal socket: %w", err)
		}
		// As sd_journal_send does: room for large entries. Best effort;
		// a larger one goes in a memfd (sendJournalFD).
		_ = c.SetWriteBuffer(8 << 20)
		return c, nil
	}
	s := newSink(queue, journalDatagram, dial)
	return &queueHandler{level: level, enc: journalEncoder{}, sink: s}, &Sink{s}
}

// sendJournalFD passes msg to journald as a sealed memfd over c, with an
// empty datagram, as sd_journal_sendv does for an entry too large for a
// datagram; journald reads the entry from the memfd.
func sendJournalFD(c net.Conn, msg []byte) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("logging: journal: %T cannot pass a file", c)
	}
	fd, err := unix.MemfdCreate("journal-entry", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return fmt.Errorf("logging: journal memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "journal-entry")
	defer f.Close()
	if _, err := f.Write(msg); err != nil {
		return fmt.Errorf("logging: journal memfd: %w", err)
	}
	// journald takes a memfd only sealed: then nobody can change the entry
	// under it.
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		return fmt.Errorf("logging: journal memfd seal: %w", err)
	}
	// net refuses WriteMsgUnix on a connected datagram socket: sendmsg(2)
	// on its descriptor, waiting in the poller while the queue is full.
	rc, err := uc.SyscallConn()
	if err != nil {
		return fmt.Errorf("logging: journal pass memfd: %w", err)
	}
	rights := unix.UnixRights(int(f.Fd()))
	werr := rc.Write(func(s uintptr) bool {
		err = unix.Sendmsg(int(s), nil, rights, nil, 0)
		return err != unix.EAGAIN
	})
	if err = cmp.Or(werr, err); err != nil {
		return fmt.Errorf("logging: journal pass memfd: %w", err)
	}
	return nil
}
