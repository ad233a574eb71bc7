package harness

import (
	"os/exec"
	"runtime"
	"sync"
)

// The kernel sends a child its Pdeathsig when the thread that forked it
// exits, not the process (prctl(2) PR_SET_PDEATHSIG; golang/go#27505). Go
// ends a thread whose goroutine exits while locked to it, as Netns.Run's
// does; a daemon forked on a thread that later ran Netns.Run was killed
// mid-test (TestIntegrationForgedNetlinkIgnored's "open /proc/<pid>/net/
// netlink: no such file or directory": the process was exiting). So every
// child is forked on one thread, locked for the life of the test binary.
var forker struct {
	once sync.Once
	reqs chan func()
}

// start runs cmd.Start on the forking thread.
func start(cmd *exec.Cmd) error {
	forker.once.Do(func() {
		forker.reqs = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the test binary
			for f := range forker.reqs {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	forker.reqs <- func() { errc <- cmd.Start() }
	return <-errc
}
