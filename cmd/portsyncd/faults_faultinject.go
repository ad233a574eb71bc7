//go:build faultinject

package main

import (
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sonic-go/portsyncd/messages"
)

// faults delivers injected faults in test builds: on SIGUSR2 every line of
// the file named by $PORTSYNCD_FAULT_FILE is a target ("dbwriter",
// "portstate", or "wedge:netlinkrx" to block instead of panic).
func faults() <-chan messages.InjectFault {
	out := make(chan messages.InjectFault, 16)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR2)
	go func() {
		for range sig {
			b, err := os.ReadFile(os.Getenv("PORTSYNCD_FAULT_FILE"))
			if err != nil {
				continue
			}
			for _, line := range strings.Fields(string(b)) {
				target, wedge := strings.CutPrefix(line, "wedge:")
				out <- messages.InjectFault{Target: target, Wedge: wedge}
			}
		}
	}()
	return out
}
