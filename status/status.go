package status

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sonic-go/portsyncd/sonic"
)

// Schema is the version of the JSON rendering.
const Schema = 1

// What APPL_DB holds for a key.
const (
	ApplConsumed       = "consumed"
	ApplStaged         = "staged"
	ApplConsumedStaged = "consumed+staged"
	ApplAbsent         = "absent"
)

// Whether the kernel's links were compared with STATE_DB.
const (
	KernelCompared    = "compared"
	KernelNotRead     = "not_read"
	KernelNoPortLinks = "no_port_links"
)

// The words of the DIFF column.
const (
	DiffAdmin   = "admin"
	DiffOper    = "oper"
	DiffMTU     = "mtu"
	DiffMissing = "missing"
	DiffStale   = "stale"
)

// Link is one kernel link as status needs it.
type Link struct {
	// Up is IFF_UP (admin state), Running IFF_RUNNING (oper state).
	Up, Running bool
	MTU         uint32
}

// Snapshot is everything status reads, as read; Build turns it into a
// Report. Maps are keyed by port name.
type Snapshot struct {
	// Config holds CONFIG_DB PORT|<name>.
	Config map[string]map[string]string
	// Appl holds the consumed APPL_DB PORT_TABLE:<name>, including the
	// PortConfigDone and PortInitDone keys.
	Appl map[string]map[string]string
	// Staged holds the keys with a change waiting for orchagent.
	Staged map[string]bool
	// State holds STATE_DB PORT_TABLE|<name>.
	State map[string]map[string]string
	// Kernel holds the links of the network namespace by name; nil when
	// they were not read.
	Kernel map[string]Link
}

// Report is the view of every port; see the package documentation for the
// meaning of each field and the JSON schema.
type Report struct {
	Schema         int    `json:"schema"`
	PortConfigDone string `json:"port_config_done"`
	PortInitDone   string `json:"port_init_done"`
	Kernel         string `json:"kernel"`
	Ports          []Port `json:"ports"`
}

// Port is one row of the report.
type Port struct {
	Name   string      `json:"name"`
	Lanes  string      `json:"lanes"`
	Speed  string      `json:"speed"`
	MTU    string      `json:"mtu"`
	Admin  string      `json:"admin_status"`
	Oper   string      `json:"netdev_oper_status"`
	ApplDB string      `json:"appl_db"`
	State  string      `json:"state"`
	Kernel *KernelLink `json:"kernel"`
	Diff   []string    `json:"diff"`
}

// KernelLink is a port's link as the kernel has it, in STATE_DB's words.
type KernelLink struct {
	Admin string `json:"admin_status"`
	Oper  string `json:"oper_status"`
	MTU   string `json:"mtu"`
}

// Differs reports whether any port differs from the kernel.
func (r Report) Differs() bool {
	return slices.ContainsFunc(r.Ports, func(p Port) bool { return len(p.Diff) > 0 })
}

// portsyncdFields are the STATE_DB fields portsyncd writes.
var portsyncdFields = []string{sonic.FieldState, sonic.FieldAdminStatus, sonic.FieldOperStatus, sonic.FieldMTU}

// Build makes the report: one row for every name in CONFIG_DB, APPL_DB
// (consumed or staged) or STATE_DB, other than PortConfigDone and
// PortInitDone, and the comparison with the kernel's links (see the package
// documentation).
func Build(s Snapshot) Report {
	r := Report{
		Schema:         Schema,
		PortConfigDone: applState(s, sonic.PortConfigDone),
		PortInitDone:   applState(s, sonic.PortInitDone),
		Kernel:         KernelNotRead,
		Ports:          []Port{},
	}
	if s.Kernel != nil {
		r.Kernel = KernelNoPortLinks
		for name := range s.Kernel {
			if sonic.IsPortName(name) {
				r.Kernel = KernelCompared
				break
			}
		}
	}
	names := make(map[string]bool)
	for _, m := range []map[string]map[string]string{s.Config, s.Appl, s.State} {
		for n := range m {
			names[n] = true
		}
	}
	for n := range s.Staged {
		names[n] = true
	}
	delete(names, sonic.PortConfigDone)
	delete(names, sonic.PortInitDone)

	for _, name := range slices.SortedFunc(maps.Keys(names), NaturalCompare) {
		conf, appl, state := s.Config[name], s.Appl[name], s.State[name]
		p := Port{
			Name:   name,
			Lanes:  first(appl[sonic.FieldLanes], conf[sonic.FieldLanes]),
			Speed:  first(appl[sonic.FieldSpeed], conf[sonic.FieldSpeed]),
			MTU:    state[sonic.FieldMTU],
			Admin:  state[sonic.FieldAdminStatus],
			Oper:   state[sonic.FieldOperStatus],
			ApplDB: applState(s, name),
			State:  state[sonic.FieldState],
			Diff:   []string{},
		}
		if r.Kernel == KernelCompared {
			link, ok := s.Kernel[name]
			if ok {
				p.Kernel = &KernelLink{Admin: sonic.UpDown(link.Up), Oper: sonic.UpDown(link.Running), MTU: strconv.FormatUint(uint64(link.MTU), 10)}
			}
			p.Diff = diff(p, ok, state)
		}
		r.Ports = append(r.Ports, p)
	}
	return r
}

// diff names how STATE_DB differs from the link (hasLink) of p.
func diff(p Port, hasLink bool, state map[string]string) []string {
	written := slices.ContainsFunc(portsyncdFields, func(f string) bool { _, ok := state[f]; return ok })
	switch {
	case !hasLink && written:
		return []string{DiffStale}
	case !hasLink:
		return []string{}
	case !written:
		// portsyncd writes only ports orchagent has consumed.
		if p.ApplDB == ApplConsumed || p.ApplDB == ApplConsumedStaged {
			return []string{DiffMissing}
		}
		return []string{}
	}
	d := []string{}
	if p.Admin != p.Kernel.Admin {
		d = append(d, DiffAdmin)
	}
	if p.Oper != p.Kernel.Oper {
		d = append(d, DiffOper)
	}
	if p.MTU != p.Kernel.MTU {
		d = append(d, DiffMTU)
	}
	return d
}

func applState(s Snapshot, key string) string {
	_, consumed := s.Appl[key]
	switch staged := s.Staged[key]; {
	case consumed && staged:
		return ApplConsumedStaged
	case consumed:
		return ApplConsumed
	case staged:
		return ApplStaged
	}
	return ApplAbsent
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// NaturalCompare orders strings with their runs of digits compared as
// numbers, as SONiC lists ports: Ethernet4 before Ethernet12. Strings equal
// as numbers ("4", "04") fall back to byte order, so the order is total.
func NaturalCompare(a, b string) int {
	return cmp.Or(naturalCompare(a, b), strings.Compare(a, b))
}

func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// Table renders the report for a person: a header line, then one line per
// port in aligned columns; "-" stands for an empty value. The DIFF column is
// there only when the kernel was compared.
func Table(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "PortConfigDone: %s  PortInitDone: %s  kernel: %s\n",
		r.PortConfigDone, r.PortInitDone, strings.ReplaceAll(r.Kernel, "_", " "))
	head := []string{"NAME", "LANES", "SPEED", "MTU", "ADMIN", "OPER", "APPL_DB", "STATE"}
	compared := r.Kernel == KernelCompared
	if compared {
		head = append(head, "DIFF")
	}
	rows := [][]string{head}
	for _, p := range r.Ports {
		row := []string{p.Name, p.Lanes, p.Speed, p.MTU, p.Admin, p.Oper, p.ApplDB, p.State}
		if compared {
			row = append(row, strings.Join(p.Diff, ","))
		}
		for i, v := range row {
			row[i] = cell(v)
		}
		rows = append(rows, row)
	}
	width := make([]int, len(head))
	for _, row := range rows {
		for i, v := range row {
			width[i] = max(width[i], utf8.RuneCountInString(v))
		}
	}
	for _, row := range rows {
		for i, v := range row {
			if i == len(row)-1 {
				b.WriteString(v)
				break
			}
			b.WriteString(v)
			b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(v)+2))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// MaxCell is the most characters a table cell shows; a longer value (a
// CONFIG_DB field can hold megabytes) is cut, ending in "…". JSON keeps
// every value whole.
const MaxCell = 40

// cell is v as a table shows it: "-" when empty, control characters (a
// newline would break the row) as "?", invalid UTF-8 as U+FFFD, at most
// MaxCell characters.
func cell(v string) string {
	if v == "" {
		return "-"
	}
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, v)
	if utf8.RuneCountInString(v) <= MaxCell {
		return v
	}
	return string([]rune(v)[:MaxCell-1]) + "…"
}

// JSON renders the report for scripts: one line of JSON (schema in the
// package documentation) and a newline.
func JSON(r Report) string {
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("status: marshal report: %v", err)) // only strings and slices: cannot fail
	}
	return string(b) + "\n"
}
