package logging

import (
	"io"
	"os"
	"syscall"

	"github.com/sonic-go/portsyncd/rawio"
)

// rawFile writes to a file (stderr: a pipe, the journal's stream, a
// terminal) with write(2) made without the scheduler's syscall bookkeeping,
// which wakes the runtime's monitor thread whenever the process was idle:
// at a NOTICE line per port change, that is two context switches an event.
// A write that blocks (a full pipe) blocks the whole process, as it blocks
// the actor that logs anyway.
type rawFile struct {
	rc syscall.RawConn
	f  *os.File
}

// rawWriter returns w written raw when it is an *os.File, else w.
func rawWriter(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok {
		return w
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return w
	}
	return &rawFile{rc: rc, f: f}
}

func (r *rawFile) Write(p []byte) (int, error) {
	n, errno, err := rawio.Write(r.rc, p)
	if err == nil && errno != 0 {
		err = &os.PathError{Op: "write", Path: r.f.Name(), Err: errno}
	}
	return n, err
}
