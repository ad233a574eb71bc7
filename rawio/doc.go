// Package rawio reads and writes non-blocking descriptors with system calls
// made without the Go scheduler's syscall bookkeeping, which wakes the
// runtime's monitor thread (sysmon) whenever the process was idle: on
// portsyncd's hot path at a few events a second, two context switches an
// event. The netpoller still waits for readiness, so deadlines work.
//
// It owns nothing but the loops; it must never be used for a call that can
// block (a blocking descriptor may block the whole process: only for ones
// whose readers drain them, as stderr's).
package rawio
