package rawio

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Write writes all of p to rc's descriptor, waiting in the netpoller while
// it would block. errno is the system call's failure, err the netpoller's
// (a deadline, a closed descriptor).
func Write(rc syscall.RawConn, p []byte) (n int, errno syscall.Errno, err error) {
	err = rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			r, _, e := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
			switch e {
			case 0:
				n += int(r)
			case unix.EINTR:
			case unix.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	return n, errno, err
}

// Read reads once into p from rc's descriptor, waiting in the netpoller
// until there is something to read; n is 0 at end of file.
func Read(rc syscall.RawConn, p []byte) (n int, errno syscall.Errno, err error) {
	if len(p) == 0 {
		return 0, 0, nil
	}
	err = rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			if e == unix.EINTR {
				continue
			}
			n, errno = int(r), e
			return e != unix.EAGAIN
		}
	})
	if errno != 0 {
		n = 0
	}
	return n, errno, err
}
