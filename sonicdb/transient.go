package sonicdb

import (
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// transientRefusals are the error prefixes with which a healthy Redis
// refuses a write for now: out of memory under maxmemory, a replica, a
// failed save, a busy script, loading its data set.
var transientRefusals = []string{"OOM ", "READONLY ", "MISCONF ", "BUSY ", "LOADING ", "MASTERDOWN ", "NOREPLICAS ", "TRYAGAIN "}

// RefusesForNow reports whether err is Redis refusing a command for a reason
// that passes (see transientRefusals): worth waiting for, unlike an ACL.
func RefusesForNow(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := re.Error()
	for _, p := range transientRefusals {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
