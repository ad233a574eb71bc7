package logtest

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The parser accepts RFC 5424's own examples (section 6.5) and rejects what
// the grammar forbids: a parser that accepted anything would let every
// syslog test pass.
func TestParseRFC5424(t *testing.T) {
	good := []struct {
		in   string
		want Message
	}{
		{"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM'su root' failed for lonvick on /dev/pts/8",
			Message{Facility: 4, Severity: 2, Timestamp: time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC),
				Hostname: "mymachine.example.com", AppName: "su", ProcID: "-", MsgID: "ID47",
				Msg: "BOM'su root' failed for lonvick on /dev/pts/8"}},
		{`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`,
			Message{Facility: 20, Severity: 5, Timestamp: time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC),
				Hostname: "mymachine.example.com", AppName: "evntslog", ProcID: "-", MsgID: "ID47",
				SD: []Element{
					{ID: "exampleSDID@32473", Params: []Param{{Name: "iut", Value: "3"}, {Name: "eventSource", Value: "Application"}, {Name: "eventID", Value: "1011"}}},
					{ID: "examplePriority@32473", Params: []Param{{Name: "class", Value: "high"}}},
				}}},
		{`<0>1 - - - - - [x@1 v="a\"b\\c\]d\e"] ` + "\xEF\xBB\xBFhé",
			Message{Hostname: "-", AppName: "-", ProcID: "-", MsgID: "-",
				SD: []Element{{ID: "x@1", Params: []Param{{Name: "v", Value: `a"b\c]d\e`}}}}, Msg: "hé"}},
		{"<191>1 2026-01-25T10:11:12.123456+01:00 h a 1 m -",
			Message{Facility: 23, Severity: 7, Timestamp: time.Date(2026, 1, 25, 9, 11, 12, 123456e3, time.UTC),
				Hostname: "h", AppName: "a", ProcID: "1", MsgID: "m"}},
	}
	for _, tt := range good {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRFC5424([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	bad := []string{
		"",
		"<34>2 - - - - - -",  // version
		"<192>1 - - - - - -", // PRIVAL
		"<034>1 - - - - - -", // leading zero
		"<34>1 2003-10-11T22:14:15.0000003Z h a p m -",      // 7 fraction digits
		"<34>1 2003-10-11 h a p m -",                        // not a timestamp
		"<34>1 - h " + strings.Repeat("a", 49) + " p m -",   // APP-NAME too long
		"<34>1 - h a p " + strings.Repeat("m", 33) + " -",   // MSGID too long
		"<34>1 - h a p m",                                   // no SD
		"<34>1 - h a p m x",                                 // SD neither - nor [
		`<34>1 - h a p m [id k="v]"]`,                       // unescaped ]
		`<34>1 - h a p m [id k="v"`,                         // unterminated element
		`<34>1 - h a p m [id k=v]`,                          // unquoted value
		`<34>1 - h a p m [id@ k="v"]`,                       // empty enterprise number
		`<34>1 - h a p m [id@x k="v"]`,                      // not a number
		`<34>1 - h a p m [id k="` + "\xff" + `"]`,           // not UTF-8
		`<34>1 - h a p m [` + strings.Repeat("i", 33) + `]`, // SD-ID too long
		`<34>1 - h a p m [id k="v"]x`,                       // no SP before MSG
	}
	for _, in := range bad {
		t.Run(in, func(t *testing.T) {
			if m, err := ParseRFC5424([]byte(in)); err == nil {
				t.Errorf("accepted %q as %+v", in, m)
			}
		})
	}
}

func TestDecodeJournal(t *testing.T) {
	bin := func(name, v string) string {
		return name + "\n" + string(binary.LittleEndian.AppendUint64(nil, uint64(len(v)))) + v + "\n"
	}
	got, err := DecodeJournal([]byte("MESSAGE=hi\nPRIORITY=5\n" + bin("STACK", "a\nb=c\n") + "TAG=x\nTAG=y\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Entry{"MESSAGE": {"hi"}, "PRIORITY": {"5"}, "STACK": {"a\nb=c\n"}, "TAG": {"x", "y"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, in := range []string{
		"MESSAGE=no newline",
		"_PID=1\n",
		"1X=1\n",
		"lower=1\n",
		"STACK\n\x05\x00\x00\x00\x00\x00\x00\x00abc\n",  // short
		"STACK\n\x03\x00\x00\x00\x00\x00\x00\x00abcd\n", // no newline after the value
		"STACK\n\x01\x00", // short length
		"=empty name\n",
	} {
		if e, err := DecodeJournal([]byte(in)); err == nil {
			t.Errorf("accepted %q as %v", in, e)
		}
	}
}
