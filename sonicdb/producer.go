package sonicdb

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/sonic"
)

// producerSet is ProducerStateTable.set as one atomic step: stage the fields,
// add the key to the key set, and announce it on the channel only if it was
// not already waiting for the consumer.
//
// KEYS[1] key set, KEYS[2] staging hash; ARGV[1] channel, ARGV[2] key,
// ARGV[3..] field, value pairs. 'G' is sonic.ChannelMessage, spelled in the
// script so that its text (and its SHA) stays the same.
var producerSet = redis.NewScript(`
local added = redis.call('SADD', KEYS[1], ARGV[2])
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
if added == 1 then
  redis.call('PUBLISH', ARGV[1], 'G')
end
return added
`)

// ProducerSet queues on pipe the producer-protocol set of key with fields
// (field, value pairs) into table of the APPL_DB db. The script is sent with
// EVAL, so a pipeline never meets NOSCRIPT.
func ProducerSet(ctx context.Context, pipe redis.Pipeliner, appl *DB, table, key string, fields []string) *redis.Cmd {
	keys := []string{sonic.KeySet(table), sonic.Staging(appl.Key(table, key))}
	args := make([]any, 0, 2+len(fields))
	args = append(args, sonic.Channel(table, appl.ID), key)
	for _, f := range fields {
		args = append(args, f)
	}
	return producerSet.Eval(ctx, pipe, keys, args...)
}
