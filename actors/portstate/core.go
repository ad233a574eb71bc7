package portstate

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonic"
)

// Start is what SONiC's start-up established for the core: the configured
// ports still awaited before PortInitDone (step 4 and 5) and the ifindexes of
// old interfaces (step 6).
type Start struct {
	Pending []string
	Old     map[uint32]bool
}

// Core holds portsyncd's view of the kernel's links and decides, for each
// batch of link events, what STATE_DB must say (docs/SONIC_CONTRACT.md
// section 2 step 7, section 4, and the differences of section 6). It does no
// I/O and reads no clock: the portstate actor feeds it and carries out what
// it returns.
type Core struct {
	old     map[uint32]bool
	byIndex map[uint32]string             // tracked links: ifindex -> port name
	state   map[uint32]messages.PortState // tracked links: their last state
	pending map[string]bool               // configured ports whose state is not yet acknowledged

	sawBatch       bool
	initDoneAsked  bool
	awaitingResync bool
}

// Rename is a link that kept its ifindex and changed its name.
type Rename struct {
	Index    uint32
	From, To string
}

// Vanished is a link a dump no longer holds although no DELLINK came.
type Vanished struct {
	Index uint32
	Name  string
}

// Effects is what a batch, or an acknowledgement, requires.
type Effects struct {
	// Ops are the STATE_DB operations, in the order the events came.
	Ops []messages.PortOp
	// Present is set after a complete dump: the names of its links.
	Present map[string]bool
	// InitDone: publish PortInitDone (at most once per Core).
	InitDone bool
	// Renamed and Vanished are reported so the actor can log them.
	Renamed  []Rename
	Vanished []Vanished
	// Ignored counts the events SONiC's filters dropped, by sonic.Reason.
	Ignored [sonic.NumReasons]uint32
}

// Empty reports whether the effects ask for nothing to be written.
func (e *Effects) Empty() bool {
	return len(e.Ops) == 0 && e.Present == nil && !e.InitDone
}

// NewCore returns a core that starts from st.
func NewCore(st Start) *Core {
	c := &Core{
		old:     st.Old,
		byIndex: make(map[uint32]string),
		state:   make(map[uint32]messages.PortState),
		pending: make(map[string]bool, len(st.Pending)),
	}
	for _, p := range st.Pending {
		c.pending[p] = true
	}
	return c
}

// AwaitResync makes the core drop live events until a complete dump: a
// restarted portstate knows nothing it can trust.
func (c *Core) AwaitResync() { c.awaitingResync = true }

// Batch decides what one batch of link events requires. ops is reused for
// Effects.Ops, so a caller that hands the slice on must pass a fresh one.
func (c *Core) Batch(b *messages.LinkBatch, ops []messages.PortOp) Effects {
	effects := Effects{Ops: ops[:0]}
	if c.awaitingResync && !b.Dump {
		return effects
	}
	c.awaitingResync = false
	c.sawBatch = true
	if b.Dump {
		c.reconcile(b.Events, &effects)
		effects.Present = present(b.Events)
	}
	for i := range b.Events {
		c.handle(&b.Events[i], b.Dump, b.Received, &effects)
	}
	effects.InitDone = c.initDone()
	return effects
}

// Written takes Redis's acknowledgement of ports' STATE_DB writes (section
// 2.7: a port leaves the pending set once its state is written) and reports
// whether PortInitDone is now due.
func (c *Core) Written(ports []string) bool {
	for _, p := range ports {
		delete(c.pending, p)
	}
	return c.initDone()
}

// initDone reports, once, that PortInitDone is due: a batch was handled and
// no configured port is pending.
func (c *Core) initDone() bool {
	if !c.sawBatch || c.initDoneAsked || len(c.pending) > 0 {
		return false
	}
	c.initDoneAsked = true
	return true
}

// reconcile deletes the ports of links that a dump no longer holds: their
// DELLINK was lost (section 8).
func (c *Core) reconcile(events []messages.LinkEvent, effects *Effects) {
	inDump := make(map[uint32]bool, len(events))
	for _, ev := range events {
		if ev.Kind == messages.NewLink && ev.Family == 0 {
			inDump[ev.Index] = true
		}
	}
	for _, idx := range slices.Sorted(maps.Keys(c.byIndex)) {
		if !inDump[idx] {
			name := c.byIndex[idx]
			delete(c.byIndex, idx)
			delete(c.state, idx)
			effects.Vanished = append(effects.Vanished, Vanished{Index: idx, Name: name})
			effects.Ops = append(effects.Ops, messages.PortOp{Port: name, Del: true})
		}
	}
}

// present returns the names of the links in a dump.
func present(events []messages.LinkEvent) map[string]bool {
	names := make(map[string]bool, len(events))
	for _, ev := range events {
		if ev.Kind == messages.NewLink && ev.Family == 0 {
			names[ev.Name] = true
		}
	}
	return names
}

// handle decides one event.
func (c *Core) handle(ev *messages.LinkEvent, dump bool, received time.Time, effects *Effects) {
	if ev.Family == 0 {
		if prev, ok := c.byIndex[ev.Index]; ok && (prev != ev.Name || ev.Kind == messages.DelLink) {
			delete(c.byIndex, ev.Index)
			delete(c.state, ev.Index)
			if prev != ev.Name {
				// Renamed: the old name's STATE_DB entry describes nothing.
				effects.Renamed = append(effects.Renamed, Rename{Index: ev.Index, From: prev, To: ev.Name})
				effects.Ops = append(effects.Ops, messages.PortOp{Port: prev, Del: true})
			}
		}
	}
	verdict, reason := Classify(*ev, c.isOld)
	switch verdict {
	case Ignore:
		effects.Ignored[reason]++
	case Delete:
		effects.Ops = append(effects.Ops, messages.PortOp{Port: ev.Name, Del: true})
	case Update:
		c.byIndex[ev.Index] = ev.Name
		c.state[ev.Index] = StateOf(*ev)
		effects.Ops = append(effects.Ops, messages.PortOp{Port: ev.Name, Set: true, State: StateOf(*ev), Force: dump, Received: received})
	}
}

func (c *Core) isOld(idx uint32) bool { return c.old[idx] }

// Pending returns the configured ports still awaited, sorted.
func (c *Core) Pending() []string { return slices.Sorted(maps.Keys(c.pending)) }

// Port is what the core knows of one tracked port, for state dumps.
type Port struct {
	Name    string `json:"name"`
	Index   uint32 `json:"ifindex"`
	AdminUp bool   `json:"admin_up"`
	OperUp  bool   `json:"oper_up"`
	MTU     uint32 `json:"mtu"`
	Pending bool   `json:"pending"`
}

// Ports returns the tracked ports, by name.
func (c *Core) Ports() []Port {
	ports := make([]Port, 0, len(c.byIndex))
	for idx, name := range c.byIndex {
		st := c.state[idx]
		ports = append(ports, Port{Name: name, Index: idx, AdminUp: st.AdminUp, OperUp: st.OperUp, MTU: st.MTU, Pending: c.pending[name]})
	}
	slices.SortFunc(ports, func(a, b Port) int { return strings.Compare(a.Name, b.Name) })
	return ports
}

// Links returns the number of links tracked.
func (c *Core) Links() int { return len(c.byIndex) }

// AwaitingResync reports whether live events are being dropped until a dump.
func (c *Core) AwaitingResync() bool { return c.awaitingResync }
