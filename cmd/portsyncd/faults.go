//go:build !faultinject

package main

import "github.com/sonic-go/portsyncd/messages"

// faults returns nil: production builds cannot inject faults.
func faults() <-chan messages.InjectFault { return nil }
