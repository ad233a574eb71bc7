package sonicdb

import "github.com/sonic-go/portsyncd/sonic"

// Old spellings of package sonic's names, kept only while actors/dbwriter
// and daemon still use them; once they import sonic, this file goes.
const (
	PortTable      = sonic.PortTable
	PortConfigDone = sonic.PortConfigDone
	PortInitDone   = sonic.PortInitDone
)

// IsPortName is sonic.IsPortName (see above).
func IsPortName(name string) bool { return sonic.IsPortName(name) }

// NeverAppear is sonic.NeverAppear (see above).
func NeverAppear(pending []string) map[string]string { return sonic.NeverAppear(pending) }
