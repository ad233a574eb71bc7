package logging

import (
	"fmt"
	"syscall"
	"testing"
)

func statStream(t *testing.T, st any) string {
	s, ok := st.(*syscall.Stat_t)
	if !ok {
		t.Fatalf("no Stat_t")
	}
	return fmt.Sprintf("%d:%d", s.Dev, s.Ino)
}
