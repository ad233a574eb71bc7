package main

// Exit statuses from sysexits.h.
const (
	// ExitUsage (EX_USAGE): the command was used wrongly.
	ExitUsage = 64
	// ExitConfig (EX_CONFIG): the configuration cannot work.
	ExitConfig = 78
)
