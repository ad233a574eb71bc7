package status

import (
	"fmt"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
)

// ReadKernelIn is ReadKernel for the network namespace whose file
// descriptor is netns (0: the calling thread's); the caller stays where it
// is.
func ReadKernelIn(netns int) (map[string]Link, error) {
	if netns == 0 {
		return ReadKernel()
	}
	conn, err := rtnetlink.Dial(&netlink.Config{NetNS: netns})
	if err != nil {
		return nil, fmt.Errorf("status: dial rtnetlink: %w", err)
	}
	return readKernel(conn)
}
