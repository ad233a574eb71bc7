package instance

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// TakeIn is Take in the network namespace whose file descriptor is netns
// (e.g. of /run/netns/asic0), where a portsyncd started inside that
// namespace (one per ASIC) looks for the guard; 0 is Take. The socket is
// bound on a locked thread that enters the namespace and comes back; the
// process stays where it is.
func TakeIn(name string, netns int) (*Guard, error) {
	if netns == 0 {
		return Take(name)
	}
	type result struct {
		g   *Guard
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{err: fmt.Errorf("instance: own network namespace: %w", err)}
			return
		}
		defer unix.Close(self)
		if err := unix.Setns(netns, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("instance: enter network namespace: %w", err)}
			return
		}
		g, err := Take(name)
		if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
			// The thread stays locked and ends with this goroutine: no
			// other goroutine runs in the wrong namespace.
			if g != nil {
				g.Close()
			}
			done <- result{err: fmt.Errorf("instance: leave network namespace: %w", err)}
			return
		}
		runtime.UnlockOSThread()
		done <- result{g, err}
	}()
	r := <-done
	return r.g, r.err
}
