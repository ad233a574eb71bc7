package sonicdb

import (
	"errors"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
)

// redisErr is a reply error as go-redis returns it.
type redisErr string

func (e redisErr) Error() string { return string(e) }
func (redisErr) RedisError()     {}

var _ redis.Error = redisErr("")

func TestRefusesForNow(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{redisErr("OOM command not allowed when used memory > 'maxmemory'."), true},
		{fmt.Errorf("sonicdb: write restore_count: %w", redisErr("READONLY You can't write against a read only replica.")), true},
		{redisErr("LOADING Redis is loading the dataset in memory"), true},
		{redisErr("NOPERM User default has no permissions to run the 'hset' command"), false},
		{redisErr("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{errors.New("OOM but not from Redis"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := RefusesForNow(tt.err); got != tt.want {
			t.Errorf("RefusesForNow(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
