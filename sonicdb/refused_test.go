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
