package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/dbconfig"
)

// DefaultLockDir is where the single-instance locks live.
const DefaultLockDir = "/run/portsyncd"

// lockedDBs are the databases whose set, with the network namespace, makes
// one portsyncd's world.
var lockedDBs = []string{"APPL_DB", "CONFIG_DB", "STATE_DB"}

// lockName names the lock of one portsyncd: its network namespace (by
// inode) and a hash of where its databases are (see endpoint). Two daemons
// with the same name would fight over the same ports and keys.
func lockName(netnsIno uint64, cfg *dbconfig.Config) (string, error) {
	h := sha256.New()
	for _, name := range lockedDBs {
		db, err := cfg.Database(name)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s=%s\n", name, endpoint(db))
	}
	return fmt.Sprintf("portsyncd-netns%d-db%s.lock", netnsIno, hex.EncodeToString(h.Sum(nil))[:16]), nil
}

// endpoint is where a database is, resolved so that two spellings of one
// place agree: the unix socket's absolute path with symlinks followed (its
// folder's, while the socket does not exist), else host and port; and the
// database number.
func endpoint(db dbconfig.Database) string {
	if p := db.Instance.UnixSocketPath; p != "" {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		} else if dir, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
			p = filepath.Join(dir, filepath.Base(p)) // no socket yet: Redis is down
		}
		return fmt.Sprintf("unix:%s/%d", p, db.ID)
	}
	host := strings.ToLower(db.Instance.Hostname)
	if host == "localhost" {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("tcp:%s:%d/%d", host, db.Instance.Port, db.ID)
}

// netnsInode returns the inode of the calling process's network namespace.
func netnsInode() (uint64, error) {
	fi, err := os.Stat("/proc/self/ns/net")
	if err != nil {
		return 0, fmt.Errorf("lock: network namespace: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, errors.New("lock: network namespace: no inode")
	}
	return st.Ino, nil
}

// lockInstance takes the lock of this network namespace and cfg's
// databases in dir.
func lockInstance(dir string, cfg *dbconfig.Config) (*instanceLock, error) {
	ino, err := netnsInode()
	if err != nil {
		return nil, err
	}
	name, err := lockName(ino, cfg)
	if err != nil {
		return nil, err
	}
	return acquireLock(dir, name)
}

// errLocked is returned by acquireLock when another process holds the lock.
var errLocked = errors.New("another portsyncd runs for this network namespace and database set")

// instanceLock is a held single-instance lock.
type instanceLock struct {
	f    *os.File
	path string
}

// acquireLock takes the lock file dir/name with flock, creating dir if
// missing, and writes the pid into it. If another process holds it, the
// error matches errLocked and names the file and the holder's pid.
func acquireLock(dir, name string) (*instanceLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	path := filepath.Join(dir, name)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, fmt.Errorf("%w: %s is held by pid %s", errLocked, path, holder(path))
			}
			return nil, fmt.Errorf("lock: flock %s: %w", path, err)
		}
		// A holder that exits removes the file while it still holds it:
		// a lock taken on a file no longer at path is taken again.
		var held, now unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) != nil || unix.Stat(path, &now) != nil || held.Ino != now.Ino {
			f.Close()
			continue
		}
		err = f.Truncate(0)
		if err == nil {
			_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock: write pid to %s: %w", path, err)
		}
		return &instanceLock{f: f, path: path}, nil
	}
}

// holder returns the pid written in the lock file, or "unknown".
func holder(path string) string {
	b, err := os.ReadFile(path)
	if pid := strings.TrimSpace(string(b)); err == nil && pid != "" {
		return pid
	}
	return "unknown"
}

// release removes the lock file, then lets go of the lock.
func (l *instanceLock) release() {
	os.Remove(l.path)
	l.f.Close()
}
