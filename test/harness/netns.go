package harness

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
)

// maxIfNameLen is the longest Linux interface name (IFNAMSIZ - 1).
const maxIfNameLen = 15

// Netns is a named network namespace ("psd-" plus a short random suffix)
// that is deleted on test cleanup.
type Netns struct {
	// Name is the namespace name as known to "ip netns".
	Name string

	mu    sync.Mutex
	peers map[string]peer // by port name in this namespace

	addMu sync.Mutex // held while choosing and creating a peer in this namespace
}

// peer is the other end of a veth port.
type peer struct {
	ns   *Netns
	name string
}

// LinkState is the state of one link as shown by "ip -j link show".
type LinkState struct {
	// Ifindex is the interface index inside the namespace.
	Ifindex int
	// AdminUp reports the UP flag (administrative state).
	AdminUp bool
	// Running reports the LOWER_UP (or RUNNING) flag: the port is up and
	// has carrier.
	Running bool
	// MTU is the link MTU.
	MTU int
	// Exists is false if there is no link of that name; the other fields
	// are then zero.
	Exists bool
}

// PortOption changes how AddPort creates a port.
type PortOption func(*portOptions)

type portOptions struct {
	portDown, peerDown bool
}

// PortDown makes AddPort leave the port administratively down.
func PortDown() PortOption { return func(o *portOptions) { o.portDown = true } }

// PeerDown makes AddPort leave the peer down, so the port has no carrier.
func PeerDown() PortOption { return func(o *portOptions) { o.peerDown = true } }

// NewNetns creates a network namespace with a unique "psd-" name, brings
// its loopback up and deletes it on test cleanup; cleanup also checks that
// "ip netns list" no longer shows it.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	ip := ipTool(t)
	n := &Netns{peers: map[string]peer{}}
	var lastErr error
	for range 5 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		name := "psd-" + hex.EncodeToString(b[:])
		out, err := exec.Command(ip, "netns", "add", name).CombinedOutput()
		if err == nil {
			n.Name = name
			break
		}
		lastErr = fmt.Errorf("ip netns add %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	if n.Name == "" {
		t.Fatalf("harness: %v", lastErr)
	}
	t.Cleanup(func() { n.destroy(t) })
	n.IP(t, "link", "set", "dev", "lo", "up")
	return n
}

// destroy deletes the namespace and checks that it is gone.
func (n *Netns) destroy(t testing.TB) {
	t.Helper()
	ip, err := lookTool("ip")
	if err != nil {
		t.Errorf("harness: %v", err)
		return
	}
	if out, err := exec.Command(ip, "netns", "delete", n.Name).CombinedOutput(); err != nil {
		t.Errorf("harness: ip netns delete %s: %v: %s", n.Name, err, bytes.TrimSpace(out))
	}
	names, err := ListNetns()
	if err != nil {
		t.Errorf("harness: %v", err)
		return
	}
	if slices.Contains(names, n.Name) {
		t.Errorf("harness: namespace %s still listed after delete", n.Name)
	}
}

// ListNetns returns the names shown by "ip netns list".
func ListNetns() ([]string, error) {
	ip, err := lookTool("ip")
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(ip, "netns", "list").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ip netns list: %v: %s", err, bytes.TrimSpace(out))
	}
	var names []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, nil
}

// IP runs "ip -n <name> args..." and fails the test with the combined
// output if it fails.
func (n *Netns) IP(t testing.TB, args ...string) {
	t.Helper()
	if err := n.TryIP(args...); err != nil {
		t.Fatalf("harness: %v", err)
	}
}

// TryIP runs "ip -n <name> args..." and returns an error that includes the
// combined output if it fails. It is meant for cleanup paths and expected
// failures.
func (n *Netns) TryIP(args ...string) error {
	_, err := n.ipOutput(args...)
	return err
}

// ipOutput runs "ip -n <name> args..." and returns its standard output.
func (n *Netns) ipOutput(args ...string) ([]byte, error) {
	ip, err := lookTool("ip")
	if err != nil {
		return nil, err
	}
	full := append([]string{"-n", n.Name}, args...)
	cmd := exec.Command(ip, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &ipError{
			args: full, err: err,
			out: strings.TrimSpace(stdout.String() + stderr.String()),
		}
	}
	return stdout.Bytes(), nil
}

// ipError is a failed ip command.
type ipError struct {
	args []string
	err  error
	out  string
}

func (e *ipError) Error() string {
	return fmt.Sprintf("ip %s: %v: %s", strings.Join(e.args, " "), e.err, e.out)
}

func (e *ipError) Unwrap() error { return e.err }

// AddPort creates a veth pair: the port called name in n and its peer in
// partner, named "p-"+name truncated to 15 bytes and made unique in
// partner. Both ends are set up unless PortDown or PeerDown is given. It
// returns the port's ifindex inside n.
func (n *Netns) AddPort(t testing.TB, name string, partner *Netns, opts ...PortOption) int {
	t.Helper()
	if partner == nil {
		t.Fatalf("harness: AddPort %s: nil partner namespace", name)
	}
	if len(name) == 0 || len(name) > maxIfNameLen {
		t.Fatalf("harness: AddPort: invalid interface name %q", name)
	}
	var o portOptions
	for _, opt := range opts {
		opt(&o)
	}
	peerName := func() string {
		partner.addMu.Lock()
		defer partner.addMu.Unlock()
		p := partner.peerName(t, name)
		n.IP(t, "link", "add", "dev", name, "type", "veth", "peer", "name", p, "netns", partner.Name)
		return p
	}()
	n.mu.Lock()
	n.peers[name] = peer{ns: partner, name: peerName}
	n.mu.Unlock()
	if !o.peerDown {
		partner.IP(t, "link", "set", "dev", peerName, "up")
	}
	if !o.portDown {
		n.IP(t, "link", "set", "dev", name, "up")
	}
	st := n.Link(t, name)
	if !st.Exists {
		t.Fatalf("harness: AddPort: %s not found in %s after creation", name, n.Name)
	}
	return st.Ifindex
}

// peerName picks a name for the peer of port that is free in n. The
// caller holds n.addMu, so that the name stays free until it is used.
func (n *Netns) peerName(t testing.TB, port string) string {
	t.Helper()
	existing := n.Links(t)
	taken := func(s string) bool {
		_, ok := existing[s]
		return ok
	}
	base := "p-" + port
	if len(base) > maxIfNameLen {
		base = base[:maxIfNameLen]
	}
	if !taken(base) {
		return base
	}
	for i := 1; i < 10000; i++ {
		suffix := fmt.Sprintf("-%d", i)
		cand := base
		if len(cand)+len(suffix) > maxIfNameLen {
			cand = cand[:maxIfNameLen-len(suffix)]
		}
		cand += suffix
		if !taken(cand) {
			return cand
		}
	}
	t.Fatalf("harness: no free peer name for %s in %s", port, n.Name)
	return ""
}

// Peer returns the partner namespace and the peer name of a port created
// by AddPort.
func (n *Netns) Peer(t testing.TB, name string) (*Netns, string) {
	t.Helper()
	n.mu.Lock()
	pe, ok := n.peers[name]
	n.mu.Unlock()
	if !ok {
		t.Fatalf("harness: %s in %s was not created by AddPort", name, n.Name)
	}
	return pe.ns, pe.name
}

// SetUp sets the administrative state of the port name in n.
func (n *Netns) SetUp(t testing.TB, name string, up bool) {
	t.Helper()
	n.IP(t, "link", "set", "dev", name, upDown(up))
}

// SetPeerUp sets the administrative state of the peer of port name in the
// partner namespace, which gives or takes the port's carrier.
func (n *Netns) SetPeerUp(t testing.TB, name string, up bool) {
	t.Helper()
	ns, pname := n.Peer(t, name)
	ns.IP(t, "link", "set", "dev", pname, upDown(up))
}

// SetMTU sets the MTU of the port name in n.
func (n *Netns) SetMTU(t testing.TB, name string, mtu int) {
	t.Helper()
	n.IP(t, "link", "set", "dev", name, "mtu", fmt.Sprint(mtu))
}

// Rename renames the port from to to: it sets the port down, renames it
// and restores the previous administrative state.
func (n *Netns) Rename(t testing.TB, from, to string) {
	t.Helper()
	st := n.Link(t, from)
	if !st.Exists {
		t.Fatalf("harness: Rename: %s does not exist in %s", from, n.Name)
	}
	if st.AdminUp {
		n.IP(t, "link", "set", "dev", from, "down")
	}
	n.IP(t, "link", "set", "dev", from, "name", to)
	n.mu.Lock()
	if pe, ok := n.peers[from]; ok {
		delete(n.peers, from)
		n.peers[to] = pe
	}
	n.mu.Unlock()
	if st.AdminUp {
		n.IP(t, "link", "set", "dev", to, "up")
	}
}

// Delete deletes the port name in n; for a veth port this also deletes
// its peer.
func (n *Netns) Delete(t testing.TB, name string) {
	t.Helper()
	n.IP(t, "link", "del", "dev", name)
	n.mu.Lock()
	delete(n.peers, name)
	n.mu.Unlock()
}

// ipLink is the part of "ip -j link show" output that is used.
type ipLink struct {
	Ifindex int      `json:"ifindex"`
	Ifname  string   `json:"ifname"`
	Flags   []string `json:"flags"`
	MTU     int      `json:"mtu"`
}

func (l ipLink) state() LinkState {
	return LinkState{
		Ifindex: l.Ifindex,
		AdminUp: slices.Contains(l.Flags, "UP"),
		Running: slices.Contains(l.Flags, "LOWER_UP") || slices.Contains(l.Flags, "RUNNING"),
		MTU:     l.MTU,
		Exists:  true,
	}
}

// Link returns the state of the link name in n, parsed from
// "ip -j -n <ns> link show dev <name>". Exists is false if there is no
// such link.
func (n *Netns) Link(t testing.TB, name string) LinkState {
	t.Helper()
	out, err := n.ipOutput("-j", "link", "show", "dev", name)
	if err != nil {
		if e, ok := err.(*ipError); ok && strings.Contains(e.out, "does not exist") {
			return LinkState{}
		}
		t.Fatalf("harness: %v", err)
	}
	var links []ipLink
	if err := json.Unmarshal(out, &links); err != nil {
		t.Fatalf("harness: parsing ip -j link show output %q: %v", out, err)
	}
	for _, l := range links {
		if l.Ifname == name {
			return l.state()
		}
	}
	return LinkState{}
}

// Links returns the state of all links in n by name.
func (n *Netns) Links(t testing.TB) map[string]LinkState {
	t.Helper()
	out, err := n.ipOutput("-j", "link", "show")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	var links []ipLink
	if err := json.Unmarshal(out, &links); err != nil {
		t.Fatalf("harness: parsing ip -j link show output %q: %v", out, err)
	}
	m := make(map[string]LinkState, len(links))
	for _, l := range links {
		m[l.Ifname] = l.state()
	}
	return m
}

func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}
