package logtest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Message is one parsed RFC 5424 syslog message.
type Message struct {
	Facility, Severity int
	Timestamp          time.Time // zero for NILVALUE
	Hostname           string    // "-" for NILVALUE, as are the next three
	AppName            string
	ProcID             string
	MsgID              string
	SD                 []Element // nil for NILVALUE
	Msg                string    // without a leading BOM
}

// Element is one SD-ELEMENT.
type Element struct {
	ID     string
	Params []Param
}

// Param is one SD-PARAM, its value unescaped.
type Param struct{ Name, Value string }

// Param returns the value of the first parameter name of the first element
// id.
func (m Message) Param(id, name string) (string, bool) {
	for _, e := range m.SD {
		if e.ID != id {
			continue
		}
		for _, p := range e.Params {
			if p.Name == name {
				return p.Value, true
			}
		}
		return "", false
	}
	return "", false
}

// Element returns the element id, if the message has it.
func (m Message) Element(id string) (Element, bool) {
	for _, e := range m.SD {
		if e.ID == id {
			return e, true
		}
	}
	return Element{}, false
}

// ParseRFC5424 parses b as an RFC 5424 SYSLOG-MSG, strictly: every header
// field's syntax and length, the timestamp, structured data (SD-IDs,
// PARAM-NAMEs, escaping in PARAM-VALUEs, which must be UTF-8).
func ParseRFC5424(b []byte) (Message, error) {
	p := &parser{b: b}
	m, err := p.message()
	if err != nil {
		return Message{}, fmt.Errorf("rfc5424: at byte %d of %q: %w", p.i, b, err)
	}
	return m, nil
}

type parser struct {
	b []byte
	i int
}

func (p *parser) message() (Message, error) {
	var m Message
	if !p.eat('<') {
		return m, errors.New("want '<'")
	}
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	digits := string(p.b[start:p.i])
	if len(digits) == 0 || len(digits) > 3 || (len(digits) > 1 && digits[0] == '0') {
		return m, fmt.Errorf("PRIVAL %q", digits)
	}
	pri, _ := strconv.Atoi(digits)
	if pri > 191 {
		return m, fmt.Errorf("PRIVAL %d > 191", pri)
	}
	m.Facility, m.Severity = pri/8, pri%8
	if !p.eat('>') || !p.eat('1') || !p.eat(' ') {
		return m, errors.New(`want ">1 "`)
	}
	ts, err := p.token("TIMESTAMP", 64)
	if err != nil {
		return m, err
	}
	if ts != "-" {
		if m.Timestamp, err = parseTimestamp(ts); err != nil {
			return m, err
		}
	}
	for _, f := range []struct {
		name string
		max  int
		dst  *string
	}{{"HOSTNAME", 255, &m.Hostname}, {"APP-NAME", 48, &m.AppName}, {"PROCID", 128, &m.ProcID}, {"MSGID", 32, &m.MsgID}} {
		if *f.dst, err = p.token(f.name, f.max); err != nil {
			return m, err
		}
	}
	// STRUCTURED-DATA
	if p.i < len(p.b) && p.b[p.i] == '-' {
		p.i++
	} else {
		for p.i < len(p.b) && p.b[p.i] == '[' {
			e, err := p.element()
			if err != nil {
				return m, err
			}
			m.SD = append(m.SD, e)
		}
		if m.SD == nil {
			return m, errors.New("want STRUCTURED-DATA ('-' or '[')")
		}
	}
	if p.i == len(p.b) {
		return m, nil
	}
	if !p.eat(' ') {
		return m, errors.New("want SP before MSG")
	}
	msg := bytes.TrimPrefix(p.b[p.i:], []byte("\xEF\xBB\xBF"))
	m.Msg = string(msg)
	return m, nil
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// token reads 1 to max PRINTUSASCII characters and the SP after them.
func (p *parser) token(name string, max int) (string, error) {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] > ' ' && p.b[p.i] < 0x7f {
		p.i++
	}
	s := string(p.b[start:p.i])
	if len(s) == 0 || len(s) > max {
		return "", fmt.Errorf("%s %q: want 1 to %d PRINTUSASCII", name, s, max)
	}
	if !p.eat(' ') {
		return "", fmt.Errorf("want SP after %s", name)
	}
	return s, nil
}

func parseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("TIMESTAMP %q: %w", s, err)
	}
	// TIME-SECFRAC is 1 to 6 digits; an upper-case T and Z.
	if dot := bytes.IndexByte([]byte(s), '.'); dot >= 0 {
		n := 0
		for _, c := range s[dot+1:] {
			if c < '0' || c > '9' {
				break
			}
			n++
		}
		if n < 1 || n > 6 {
			return t, fmt.Errorf("TIMESTAMP %q: %d fraction digits, want 1 to 6", s, n)
		}
	}
	return t, nil
}

// sdName reads an SD-NAME: 1 to 32 PRINTUSASCII except '=', SP, ']', '"'.
func (p *parser) sdName(what string) (string, error) {
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c <= ' ' || c >= 0x7f || c == '=' || c == ']' || c == '"' {
			break
		}
		p.i++
	}
	s := string(p.b[start:p.i])
	if len(s) == 0 || len(s) > 32 {
		return "", fmt.Errorf("%s %q: want 1 to 32 characters", what, s)
	}
	return s, nil
}

func (p *parser) element() (Element, error) {
	var e Element
	p.eat('[')
	id, err := p.sdName("SD-ID")
	if err != nil {
		return e, err
	}
	if at := bytes.IndexByte([]byte(id), '@'); at >= 0 {
		// name@<private enterprise number>
		if at == 0 || at == len(id)-1 {
			return e, fmt.Errorf("SD-ID %q", id)
		}
		for _, c := range id[at+1:] {
			if (c < '0' || c > '9') && c != '.' {
				return e, fmt.Errorf("SD-ID %q: enterprise number", id)
			}
		}
	}
	e.ID = id
	for {
		if p.eat(']') {
			return e, nil
		}
		if !p.eat(' ') {
			return e, fmt.Errorf("element %s: want SP or ']'", id)
		}
		name, err := p.sdName("PARAM-NAME")
		if err != nil {
			return e, err
		}
		if !p.eat('=') || !p.eat('"') {
			return e, fmt.Errorf("param %s: want '=\"'", name)
		}
		var v []byte
		for {
			if p.i >= len(p.b) {
				return e, fmt.Errorf("param %s: unterminated value", name)
			}
			c := p.b[p.i]
			p.i++
			if c == '"' {
				break
			}
			if c == ']' {
				return e, fmt.Errorf("param %s: unescaped ']'", name)
			}
			if c == '\\' && p.i < len(p.b) {
				switch n := p.b[p.i]; n {
				case '"', '\\', ']':
					v = append(v, n)
					p.i++
					continue
				}
			}
			v = append(v, c)
		}
		if !utf8.Valid(v) {
			return e, fmt.Errorf("param %s: value not UTF-8", name)
		}
		e.Params = append(e.Params, Param{name, string(v)})
	}
}
