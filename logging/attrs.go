package logging

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// field is one attribute after groups are flattened: its key is prefix+key,
// with prefix "" at the top level or "g1.g2." inside groups. Keeping the two
// apart spares a string concatenation per attribute.
type field struct {
	prefix, key string
	val         slog.Value // resolved; never a group
}

func (f field) is(key string) bool { return f.prefix == "" && f.key == key }

// appendFields appends a, resolved and with its groups flattened, to fs.
// Empty attributes and empty groups are left out, as slog's handlers do.
func appendFields(fs []field, prefix string, a slog.Attr) []field {
	a.Value = a.Value.Resolve()
	if a.Value.Kind() != slog.KindGroup {
		if a.Equal(slog.Attr{}) {
			return fs
		}
		return append(fs, field{prefix: prefix, key: a.Key, val: a.Value})
	}
	attrs := a.Value.Group()
	if len(attrs) == 0 {
		return fs
	}
	if a.Key != "" {
		prefix = prefix + a.Key + "."
	}
	for _, g := range attrs {
		fs = appendFields(fs, prefix, g)
	}
	return fs
}

// encoder turns one record into one message of a wire format.
type encoder interface {
	encode(b []byte, r slog.Record, fs []field) []byte
}

// queueHandler is the slog.Handler of the syslog and journald outputs: it
// encodes on the caller's goroutine into a pooled buffer and hands that to a
// sink's bounded queue (see sink.enqueue), so the caller never waits on I/O.
type queueHandler struct {
	level  slog.Leveler
	enc    encoder
	sink   *sink
	attrs  []field // from WithAttrs, flattened
	prefix string  // from WithGroup: "g1.g2."
}

type fieldsState struct{ fs []field }

var fieldsPool = sync.Pool{New: func() any { return &fieldsState{fs: make([]field, 0, 16)} }}

func (h *queueHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *queueHandler) Handle(_ context.Context, r slog.Record) error {
	st := fieldsPool.Get().(*fieldsState)
	st.fs = append(st.fs[:0], h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		st.fs = appendFields(st.fs, h.prefix, a)
		return true
	})
	b := getBuf()
	*b = h.enc.encode((*b)[:0], r, st.fs)
	clear(st.fs) // let go of the values' strings and pointers
	st.fs = st.fs[:0]
	fieldsPool.Put(st)
	h.sink.enqueue(b)
	return nil
}

func (h *queueHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.attrs = append([]field(nil), h.attrs...)
	for _, a := range attrs {
		h2.attrs = appendFields(h2.attrs, h.prefix, a)
	}
	return &h2
}

func (h *queueHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	return &h2
}

// appendText appends v as plain text, the way slog's text handler shows it
// before quoting.
func appendText(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return append(b, v.String()...)
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		return strconv.AppendFloat(b, v.Float64(), 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		return append(b, v.Duration().String()...)
	case slog.KindTime:
		return v.Time().AppendFormat(b, time.RFC3339Nano)
	default:
		return fmt.Append(b, v.Any())
	}
}

// appendLogfmt appends " key=value" for each field, quoting values as
// slog's text handler would: so that a line read without its structured
// data (rsyslog's default templates, journald forwarding to syslog) still
// carries every attribute.
func appendLogfmt(b []byte, fs []field) []byte {
	for _, f := range fs {
		b = append(b, ' ')
		b = append(b, f.prefix...)
		b = append(b, f.key...)
		b = append(b, '=')
		start := len(b)
		b = appendText(b, f.val)
		if needsQuote(b[start:]) {
			// Quote a copy; the common unquoted case costs nothing.
			s := string(b[start:])
			b = strconv.AppendQuote(b[:start], s)
		}
	}
	return b
}

func needsQuote(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	for _, c := range v {
		if c <= ' ' || c == '=' || c == '"' || c == 0x7f || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// Buffers for encoded messages, from the caller's Handle to the sink's
// writer, which returns them. Very large ones are not kept.
const maxPooledBuf = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
