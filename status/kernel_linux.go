package status

import (
	"fmt"

	"github.com/jsimonetti/rtnetlink/v2"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/sonic"
)

// ReadKernel dumps the links of the calling thread's network namespace with
// RTM_GETLINK and returns them by name. Bridge-family (AF_BRIDGE) entries
// and links without a name are left out.
func ReadKernel() (map[string]Link, error) {
	conn, err := rtnetlink.Dial(nil)
	if err != nil {
		return nil, fmt.Errorf("status: dial rtnetlink: %w", err)
	}
	return readKernel(conn)
}

// readKernel dumps the links conn's namespace has, and closes conn.
func readKernel(conn *rtnetlink.Conn) (map[string]Link, error) {
	defer conn.Close()
	msgs, err := conn.Link.List()
	if err != nil {
		return nil, fmt.Errorf("status: dump links: %w", err)
	}
	links := make(map[string]Link, len(msgs))
	for _, m := range msgs {
		if m.Family != unix.AF_UNSPEC || m.Attributes == nil || m.Attributes.Name == "" {
			continue
		}
		links[m.Attributes.Name] = Link{
			Up:      sonic.AdminUp(m.Flags),
			Running: sonic.OperUp(m.Flags),
			MTU:     m.Attributes.MTU,
		}
	}
	return links, nil
}
