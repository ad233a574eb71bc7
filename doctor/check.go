package doctor

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Verdict is a check's outcome.
type Verdict string

// The verdicts, from good to bad. Only Fail makes "portsyncd doctor" exit
// non-zero: Warn marks what works but costs something (latency, a re-dump
// after a burst, a lost feature) or what doctor cannot judge.
const (
	OK   Verdict = "OK"
	Warn Verdict = "WARN"
	Fail Verdict = "FAIL"
)

// Check is one row of the report.
type Check struct {
	// Name says what was checked, e.g. "net.core.rmem_max".
	Name    string  `json:"name"`
	Verdict Verdict `json:"verdict"`
	// Found is the value found on this host.
	Found string `json:"found"`
	// Wanted is the value portsyncd wants.
	Wanted string `json:"wanted"`
	// Fix says what to do; empty when Verdict is OK.
	Fix string `json:"fix,omitempty"`
}

// Report is every check, in the order they ran.
type Report struct {
	// Schema is the version of this JSON shape (1).
	Schema int     `json:"schema"`
	Checks []Check `json:"checks"`
}

// Failed reports whether any check failed.
func (r Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Verdict == Fail {
			return true
		}
	}
	return false
}

// Count returns how many checks have verdict v.
func (r Report) Count(v Verdict) int {
	n := 0
	for _, c := range r.Checks {
		if c.Verdict == v {
			n++
		}
	}
	return n
}

// JSON renders r as one indented JSON document, ">" and "&" as they are.
func JSON(r Report) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		panic(fmt.Sprintf("doctor: encode report: %v", err)) // plain strings only
	}
	return b.String()
}

// Table renders r for a person: one row per check (verdict, name, found,
// wanted), the fix indented on the line below a row that has one, then a
// count of each verdict.
func Table(r Report) string {
	rows := [][3]string{{"VERDICT", "CHECK", "FOUND"}}
	wanted := []string{"WANTED"}
	for _, c := range r.Checks {
		rows = append(rows, [3]string{string(c.Verdict), oneLine(c.Name), oneLine(c.Found)})
		wanted = append(wanted, oneLine(c.Wanted))
	}
	var w [3]int
	for _, row := range rows {
		for i, cell := range row {
			w[i] = max(w[i], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	for i, row := range rows {
		for j, cell := range row {
			b.WriteString(cell + strings.Repeat(" ", w[j]-utf8.RuneCountInString(cell)+2))
		}
		b.WriteString(wanted[i] + "\n")
		if i > 0 && r.Checks[i-1].Fix != "" {
			b.WriteString(strings.Repeat(" ", w[0]+2) + "fix: " + oneLine(r.Checks[i-1].Fix) + "\n")
		}
	}
	fmt.Fprintf(&b, "%d OK, %d WARN, %d FAIL\n", r.Count(OK), r.Count(Warn), r.Count(Fail))
	return b.String()
}

// oneLine keeps a cell on one line whatever a Redis error or a file held.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
