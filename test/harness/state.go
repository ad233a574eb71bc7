package harness

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// StateDiff compares STATE_DB PORT_TABLE|<name> with the kernel's links in
// ns for each name: a link that exists must have the four fields portsyncd
// writes, with its admin state, carrier and MTU; a link that does not must
// have no key. It returns "" when they agree, else a cmp diff
// (-kernel +STATE_DB).
func StateDiff(t testing.TB, ns *Netns, state *redis.Client, names []string) string {
	t.Helper()
	links := ns.Links(t)
	kernel := make(map[string]map[string]string)
	got := make(map[string]map[string]string)
	for _, n := range names {
		if l, ok := links[n]; ok {
			kernel[n] = map[string]string{
				"state":              "ok",
				"admin_status":       upDown(l.AdminUp),
				"netdev_oper_status": upDown(l.AdminUp && l.Running),
				"mtu":                fmt.Sprint(l.MTU),
			}
		}
		st, err := state.HGetAll(context.Background(), "PORT_TABLE|"+n).Result()
		if err != nil {
			return fmt.Sprintf("HGETALL PORT_TABLE|%s: %v", n, err)
		}
		if len(st) > 0 {
			got[n] = map[string]string{"state": st["state"], "admin_status": st["admin_status"],
				"netdev_oper_status": st["netdev_oper_status"], "mtu": st["mtu"]}
		}
	}
	return cmp.Diff(kernel, got)
}
