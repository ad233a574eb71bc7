package instance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// DB identifies one database: the name portsyncd knows it by, the run_id of
// the Redis server holding it, and its number there.
type DB struct {
	Name  string
	RunID string
	ID    int
}

// Name is the abstract socket name of the guard for dbs, in order: a hash,
// since three run_ids (40 hex digits each) do not fit in the 107 bytes an
// abstract name may have.
func Name(dbs []DB) string {
	h := sha256.New()
	for _, db := range dbs {
		fmt.Fprintf(h, "%s run_id=%s db=%d\n", db.Name, db.RunID, db.ID)
	}
	return "portsyncd/" + hex.EncodeToString(h.Sum(nil))[:32]
}
