package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sonic-go/portsyncd/dbconfig"
)

func parseConfig(t *testing.T, instances string) *dbconfig.Config {
	t.Helper()
	c, err := dbconfig.Parse([]byte(`{"INSTANCES": ` + instances + `,
		"DATABASES": {"APPL_DB": {"id": 0, "separator": ":", "instance": "redis"},
		              "CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis"},
		              "STATE_DB": {"id": 6, "separator": "|", "instance": "redis"},
		              "COUNTERS_DB": {"id": 2, "separator": ":", "instance": "other"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLockName(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	sock := func(p string) *dbconfig.Config {
		return parseConfig(t, `{"redis": {"hostname": "127.0.0.1", "port": 6379, "unix_socket_path": "`+p+`"},
			"other": {"hostname": "10.0.0.1", "port": 1}}`)
	}
	tcp := func(host string, port int) *dbconfig.Config {
		return parseConfig(t, `{"redis": {"hostname": "`+host+`", "port": `+strconv.Itoa(port)+`},
			"other": {"hostname": "10.0.0.2", "port": 2}}`)
	}
	name := func(ino uint64, c *dbconfig.Config) string {
		n, err := lockName(ino, c)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	base := name(1, sock(filepath.Join(dir, "redis.sock")))
	if !strings.HasPrefix(base, "portsyncd-netns1-db") || !strings.HasSuffix(base, ".lock") {
		t.Errorf("lock name %q", base)
	}
	same := map[string]string{
		"socket reached through a symlink": name(1, sock(filepath.Join(dir, "link", "redis.sock"))),
		"socket spelled with ..":           name(1, sock(filepath.Join(dir, "x", "..", "redis.sock"))),
		"another instance of a database portsyncd does not use": name(1, parseConfig(t,
			`{"redis": {"hostname": "127.0.0.1", "port": 6379, "unix_socket_path": "`+filepath.Join(dir, "redis.sock")+`"}, "other": {"hostname": "h", "port": 9}}`)),
	}
	for what, got := range same {
		if got != base {
			t.Errorf("%s: %q, want %q", what, got, base)
		}
	}
	if a, b := name(1, tcp("localhost", 6379)), name(1, tcp("127.0.0.1", 6379)); a != b {
		t.Errorf("localhost %q and 127.0.0.1 %q differ", a, b)
	}
	differ := map[string]string{
		"other namespace": name(2, sock(filepath.Join(dir, "redis.sock"))),
		"other socket":    name(1, sock(filepath.Join(dir, "redis2.sock"))),
		"tcp, not socket": name(1, tcp("127.0.0.1", 6379)),
		"other tcp port":  name(1, tcp("127.0.0.1", 6380)),
		"other tcp host":  name(1, tcp("127.0.0.2", 6379)),
	}
	seen := map[string]string{base: "base"}
	for what, n := range differ {
		if prev, ok := seen[n]; ok {
			t.Errorf("%s: same lock name as %s: %q", what, prev, n)
		}
		seen[n] = what
	}
}

func TestAcquireLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "made", "here")
	l, err := acquireLock(dir, "a.lock")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.lock")); string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("lock file holds %q, want our pid", b)
	}
	// flock conflicts between two opens, also in one process.
	_, err = acquireLock(dir, "a.lock")
	if !errors.Is(err, errLocked) || !strings.Contains(err.Error(), filepath.Join(dir, "a.lock")) ||
		!strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second acquire: %v; want errLocked naming the file and pid %d", err, os.Getpid())
	}
	if _, err := acquireLock(dir, "b.lock"); err != nil {
		t.Errorf("another lock name: %v", err)
	}
	l.release()
	if _, err := os.Stat(filepath.Join(dir, "a.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after release: %v", err)
	}
	l2, err := acquireLock(dir, "a.lock")
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	l2.release()
}
