package harness

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// maxSocketPath is the longest unix socket path used; the kernel limit is
// 108 bytes including the terminating NUL byte.
const maxSocketPath = 100

// Redis is a private redis-server that listens only on a unix socket and
// keeps nothing on disk. It is stopped on test cleanup.
type Redis struct {
	// Dir is the directory that holds the log file and generated
	// configuration files; it is removed on test cleanup.
	Dir string
	// Socket is the path of the unix socket of the server. It stays the
	// same across Stop and Start.
	Socket string

	// TCPAddr is "127.0.0.1:<port>" when the server also listens on TCP
	// (WithTCP), else "".
	TCPAddr string

	mu   sync.Mutex
	proc *redisProc // nil while stopped
}

// RedisOption changes how StartRedis runs the server.
type RedisOption func(*Redis)

// WithTCP makes the server also listen on a free TCP port of 127.0.0.1 in
// the test's network namespace. Clients from TCPClient then show in MONITOR
// with their own address, apart from the daemon's unix-socket connections.
func WithTCP(t testing.TB) RedisOption {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("harness: finding a free TCP port: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return func(r *Redis) { r.TCPAddr = addr }
}

// redisProc is one run of redis-server.
type redisProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been waited for
	err  error         // result of cmd.Wait, valid after done is closed
}

// StartRedis starts a private redis-server with "port 0" (unless WithTCP), a unix socket in
// t.TempDir(), no persistence (save "" and appendonly no) and the default
// notify-keyspace-events setting (off). It waits up to 10 s for PING to be
// answered. The server is killed and waited for on test cleanup.
func StartRedis(t testing.TB, opts ...RedisOption) *Redis {
	t.Helper()
	r := &Redis{Dir: t.TempDir()}
	for _, o := range opts {
		o(r)
	}
	r.Socket = filepath.Join(r.Dir, "redis.sock")
	if len(r.Socket) > maxSocketPath {
		// The test's temporary directory is too deep for a unix socket
		// path; use a short directory of our own instead.
		dir, err := os.MkdirTemp("", "psd-redis-")
		if err != nil {
			t.Fatalf("harness: creating socket directory: %v", err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		r.Socket = filepath.Join(dir, "redis.sock")
	}
	t.Cleanup(func() { r.stop(t, false) })
	r.Start(t)
	return r
}

// LogFile returns the path of the redis-server log file.
func (r *Redis) LogFile() string { return filepath.Join(r.Dir, "redis.log") }

// Start starts redis-server again, with an empty data set, on the same
// socket path. It fails the test if the server is already running.
func (r *Redis) Start(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil {
		t.Fatalf("harness: redis-server on %s is already running", r.Socket)
	}
	bin, err := lookTool("redis-server")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	if err := os.Remove(r.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("harness: removing stale socket: %v", err)
	}
	port, bind := "0", []string{}
	if r.TCPAddr != "" {
		host, p, _ := net.SplitHostPort(r.TCPAddr)
		port, bind = p, []string{"--bind", host}
	}
	args := append([]string{
		"--port", port,
		"--unixsocket", r.Socket,
		"--unixsocketperm", "700",
		"--save", "",
		"--appendonly", "no",
		"--dir", r.Dir,
		"--daemonize", "no",
		"--logfile", r.LogFile(),
	}, bind...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = r.Dir
	// Kill the server if the test binary dies without running cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := start(cmd); err != nil {
		t.Fatalf("harness: starting redis-server: %v", err)
	}
	p := &redisProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	r.proc = p

	deadline := time.Now().Add(10 * time.Second)
	for {
		err := rawCommand(r.Socket, "+PONG", "PING")
		if err == nil {
			return
		}
		select {
		case <-p.done:
			r.proc = nil
			t.Fatalf("harness: redis-server exited during start-up (%v); log:\n%s", p.err, r.readLog())
		default:
		}
		if time.Now().After(deadline) {
			r.killLocked(p)
			r.proc = nil
			t.Fatalf("harness: redis-server did not answer PING within 10s: %v; log:\n%s", err, r.readLog())
		}
		time.Sleep(pollInterval)
	}
}

// Stop shuts the server down with SHUTDOWN NOSAVE (killing it if that does
// not work within 5 s), waits for the process to exit and makes sure the
// socket file is gone. Stopping a stopped server does nothing.
func (r *Redis) Stop(t testing.TB) {
	t.Helper()
	r.stop(t, true)
}

func (r *Redis) stop(t testing.TB, fatal bool) {
	t.Helper()
	fail := t.Errorf
	if fatal {
		fail = t.Fatalf
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.proc
	if p == nil {
		return
	}
	r.proc = nil
	// SHUTDOWN closes the connection instead of replying; the result is
	// judged by the process exiting.
	_ = rawCommand(r.Socket, "", "SHUTDOWN", "NOSAVE")
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Logf("harness: redis-server ignored SHUTDOWN NOSAVE, killing it")
		if !r.killLocked(p) {
			fail("harness: redis-server (pid %d) did not exit after SIGKILL", p.cmd.Process.Pid)
			return
		}
	}
	// A killed server leaves its socket behind.
	if err := os.Remove(r.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		fail("harness: removing redis socket: %v", err)
		return
	}
	if _, err := os.Stat(r.Socket); !errors.Is(err, os.ErrNotExist) {
		fail("harness: redis socket %s still exists after stop (%v)", r.Socket, err)
	}
}

// killLocked sends SIGKILL and waits up to 10 s for the exit; it reports
// whether the process is gone.
func (r *Redis) killLocked(p *redisProc) bool {
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return true
	case <-time.After(10 * time.Second):
		return false
	}
}

// Running reports whether the server process is running.
func (r *Redis) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proc != nil
}

func (r *Redis) readLog() string {
	b, err := os.ReadFile(r.LogFile())
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

// Client returns a go-redis client for database db on the server's socket.
// The client is closed on test cleanup and reconnects by itself after
// Stop and Start.
func (r *Redis) Client(t testing.TB, db int) *redis.Client {
	t.Helper()
	return r.client(t, "unix", r.Socket, db)
}

// TCPClient is Client over TCP; the server must have been started WithTCP.
func (r *Redis) TCPClient(t testing.TB, db int) *redis.Client {
	t.Helper()
	if r.TCPAddr == "" {
		t.Fatalf("harness: TCPClient: redis-server not started WithTCP")
	}
	return r.client(t, "tcp", r.TCPAddr, db)
}

func (r *Redis) client(t testing.TB, network, addr string, db int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Network:               network,
		Addr:                  addr,
		DB:                    db,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           5 * time.Second,
		WriteTimeout:          5 * time.Second,
		DisableIdentity:       true,
		MaxRetries:            -1,
		PoolSize:              8,
		ConnMaxIdleTime:       time.Minute,
		ContextTimeoutEnabled: true,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// DBConfigFile is the name of the file written by WriteDBConfig.
const DBConfigFile = "database_config.json"

// WriteDBConfig writes a SONiC database_config.json into r.Dir and returns
// its path. It declares one instance "redis" (hostname 127.0.0.1, the unused
// port 6379 and unix_socket_path r.Socket) and the databases APPL_DB (id 0,
// separator ":"), CONFIG_DB (id 4, separator "|") and STATE_DB (id 6,
// separator "|").
func (r *Redis) WriteDBConfig(t testing.TB) string {
	t.Helper()
	type instance struct {
		Hostname       string `json:"hostname"`
		Port           int    `json:"port"`
		UnixSocketPath string `json:"unix_socket_path"`
	}
	type database struct {
		ID        int    `json:"id"`
		Separator string `json:"separator"`
		Instance  string `json:"instance"`
	}
	cfg := struct {
		Instances map[string]instance `json:"INSTANCES"`
		Databases map[string]database `json:"DATABASES"`
		Version   string              `json:"VERSION"`
	}{
		Instances: map[string]instance{
			"redis": {Hostname: "127.0.0.1", Port: 6379, UnixSocketPath: r.Socket},
		},
		Databases: map[string]database{
			"APPL_DB":   {ID: 0, Separator: ":", Instance: "redis"},
			"CONFIG_DB": {ID: 4, Separator: "|", Instance: "redis"},
			"STATE_DB":  {ID: 6, Separator: "|", Instance: "redis"},
		},
		Version: "1.0",
	}
	b, err := json.MarshalIndent(cfg, "", "    ")
	if err != nil {
		t.Fatalf("harness: encoding database config: %v", err)
	}
	path := filepath.Join(r.Dir, DBConfigFile)
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatalf("harness: writing database config: %v", err)
	}
	return path
}

// rawCommand sends one command over a fresh connection to the socket. If
// want is not empty the first reply line must equal it.
func rawCommand(socket, want string, args ...string) error {
	conn, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return err
	}
	if want == "" {
		// Wait for the server to close the connection (or the deadline).
		_, _ = bufio.NewReader(conn).ReadString('\n')
		return nil
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if got := strings.TrimRight(line, "\r\n"); got != want {
		return fmt.Errorf("reply %q, want %q", got, want)
	}
	return nil
}

// Freeze stops the server's process with SIGSTOP: it keeps its connections
// and answers nothing, as a wedged server would. thaw sends SIGCONT; it is
// also called on test cleanup, before the server is stopped.
func (r *Redis) Freeze(t testing.TB) (thaw func()) {
	t.Helper()
	r.mu.Lock()
	p := r.proc
	r.mu.Unlock()
	if p == nil {
		t.Fatalf("harness: Freeze: redis-server on %s is not running", r.Socket)
	}
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("harness: SIGSTOP redis-server: %v", err)
	}
	var once sync.Once
	thaw = func() {
		once.Do(func() {
			if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Errorf("harness: SIGCONT redis-server: %v", err)
			}
		})
	}
	t.Cleanup(thaw)
	return thaw
}
