package sonicdb

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/sonic"
	"github.com/sonic-go/portsyncd/test/harness"
)

// A wrong password (WRONGPASS) is a permanent refusal: WaitReady returns at
// once with ErrRefused naming the database and address. The daemon has no
// password setting, so the client is given one here; the server is real.
func TestWaitReadyWrongPassword(t *testing.T) {
	harness.RequireRoot(t)
	r := harness.StartRedis(t)
	admin := r.Client(t, 0)
	if err := admin.ConfigSet(context.Background(), "requirepass", "right").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.ConfigSet(context.Background(), "requirepass", "") })

	inst := dbconfig.Instance{Name: "redis", Hostname: "127.0.0.1", Port: 6379, UnixSocketPath: r.Socket}
	db := newDB(dbconfig.Database{Name: "APPL_DB", ID: 0, Separator: ":", Instance: inst})
	opts := db.Client.Options()
	db.Client.Close()
	opts.Password = "wrong"
	db.Client = redis.NewClient(opts)
	dbs := &DBs{Appl: db, Config: db, State: db}
	defer db.Client.Close()

	err := dbs.WaitReady(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "WRONGPASS") ||
		!strings.Contains(err.Error(), "APPL_DB at "+r.Socket) {
		t.Errorf("WaitReady: %v; want ErrRefused naming APPL_DB, %s and WRONGPASS", err, r.Socket)
	}
}

// A producer set whose PUBLISH the ACL refuses runs SADD and HSET (scripts
// are not rolled back) and fails with an error that has no NOPERM prefix:
// ProducerRefusal must call it a refusal and name PUBLISH, and must leave
// other failures (WRONGTYPE) to the retry path.
func TestProducerRefusal(t *testing.T) {
	harness.RequireRoot(t)
	r := harness.StartRedis(t)
	ctx := context.Background()
	admin := r.Client(t, 0)
	inst := dbconfig.Instance{Name: "redis", Hostname: "127.0.0.1", Port: 6379, UnixSocketPath: r.Socket}
	appl := newDB(dbconfig.Database{Name: "APPL_DB", ID: 0, Separator: ":", Instance: inst})
	defer appl.Client.Close()
	set := func(key string) error {
		pipe := appl.Client.Pipeline()
		cmd := ProducerSet(ctx, pipe, appl, sonic.PortTable, key, []string{"lanes", "0"})
		pipe.Exec(ctx)
		return cmd.Err()
	}

	if err := ProducerRefusal(ctx, appl, set("Ethernet0")); err != nil {
		t.Fatalf("a complete set: %v", err)
	}
	if err := admin.Set(ctx, "_PORT_TABLE:Ethernet4", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := set("Ethernet4"); err == nil || ProducerRefusal(ctx, appl, err) != nil {
		t.Errorf("WRONGTYPE: set error %v, ProducerRefusal %v; want an error that is not a refusal", err, ProducerRefusal(ctx, appl, err))
	}

	if err := admin.Do(ctx, "ACL", "SETUSER", "default", "-publish").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Do(ctx, "ACL", "SETUSER", "default", "+@all") })
	err := ProducerRefusal(ctx, appl, set("Ethernet8"))
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "refused at PUBLISH PORT_TABLE_CHANNEL@0") {
		t.Errorf("PUBLISH refused: %v; want ErrRefused naming PUBLISH PORT_TABLE_CHANNEL@0", err)
	}
	if n, _ := admin.SIsMember(ctx, "PORT_TABLE_KEY_SET", "Ethernet8").Result(); !n {
		t.Errorf("the refused set did not stage its key: the test does not show a partial write")
	}

	if err := admin.Do(ctx, "ACL", "SETUSER", "default", "+@all", "-eval").Err(); err != nil {
		t.Fatal(err)
	}
	err = ProducerRefusal(ctx, appl, set("Ethernet12"))
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "refused at EVAL") {
		t.Errorf("EVAL refused: %v; want ErrRefused naming EVAL", err)
	}
}
