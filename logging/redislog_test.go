package logging

import "testing"

func TestSplitRedisMessage(t *testing.T) {
	tests := []struct {
		in, subsystem, detail string
	}{
		{"redis: connection pool: failed to dial after 1 attempts: dial unix /x: connect: no such file or directory",
			"connection pool", "failed to dial after 1 attempts: dial unix /x: connect: no such file or directory"},
		{"pubsub: reconnecting to new endpoint a:1 (was b:2)", "pubsub", "reconnecting to new endpoint a:1 (was b:2)"},
		{"specified duration is 500µs, but minimal supported value is 1ms - truncating to 1ms",
			"", "specified duration is 500µs, but minimal supported value is 1ms - truncating to 1ms"},
		{"Conn has unread data (not push notification), removing it", "", "Conn has unread data (not push notification), removing it"},
		{"redis: failed to close connection: x", "", "failed to close connection: x"},
		{"conn[3] has nil state machine, removing it", "", "conn[3] has nil state machine, removing it"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sub, detail := splitRedisMessage(tt.in)
			if sub != tt.subsystem || detail != tt.detail {
				t.Errorf("splitRedisMessage(%q) = %q, %q; want %q, %q", tt.in, sub, detail, tt.subsystem, tt.detail)
			}
		})
	}
}
