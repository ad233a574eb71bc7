package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/sonic-go/portsyncd/daemon"
)

// requests turns the operator's signals into the daemon's requests:
// SIGUSR1 dumps every actor's state. (SIGTERM and SIGINT end the run through
// the context made in run.) A signal that comes while the previous one is
// still being served is folded into it.
func requests() daemon.Requests {
	dump := make(chan struct{}, 1)
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			select {
			case dump <- struct{}{}:
			default:
			}
		}
	}()
	return daemon.Requests{DumpState: dump}
}
