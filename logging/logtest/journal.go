package logtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Entry is one decoded journal entry: each field's values in order (a
// field may repeat).
type Entry map[string][]string

// Get returns the field's first value.
func (e Entry) Get(name string) string {
	if v := e[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// DecodeJournal decodes one datagram of the journal's native protocol: lines
// NAME=value, or NAME, newline, a 64-bit little-endian length, that many
// bytes, newline. Field names must be what journald accepts from a client:
// A-Z, 0-9 and '_', not starting with '_' or a digit, at most 64 bytes.
func DecodeJournal(b []byte) (Entry, error) {
	e := make(Entry)
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		eq := bytes.IndexByte(b, '=')
		var name, value string
		switch {
		case nl < 0:
			return nil, fmt.Errorf("journal: field %q without a newline", b)
		case eq >= 0 && eq < nl:
			name, value = string(b[:eq]), string(b[eq+1:nl])
			b = b[nl+1:]
		default:
			name = string(b[:nl])
			b = b[nl+1:]
			if len(b) < 8 {
				return nil, fmt.Errorf("journal: field %s: short length", name)
			}
			n := binary.LittleEndian.Uint64(b)
			b = b[8:]
			if uint64(len(b)) < n+1 || b[n] != '\n' {
				return nil, fmt.Errorf("journal: field %s: length %d does not end with a newline", name, n)
			}
			value = string(b[:n])
			b = b[n+1:]
		}
		if err := validName(name); err != nil {
			return nil, err
		}
		e[name] = append(e[name], value)
	}
	return e, nil
}

func validName(s string) error {
	if len(s) == 0 || len(s) > 64 || s[0] == '_' || (s[0] >= '0' && s[0] <= '9') {
		return fmt.Errorf("journal: field name %q", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return fmt.Errorf("journal: field name %q", s)
		}
	}
	return nil
}
