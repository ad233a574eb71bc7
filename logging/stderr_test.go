package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// Every stderr format shows SONiC's level names, and the one LevelVar
// decides for all of them.
func TestStderrLevelNames(t *testing.T) {
	tests := []struct {
		format   string
		terminal bool
		want     []string // per line, in order: NOTICE, CRIT, DEBUG
	}{
		{FormatText, false, []string{"level=NOTICE msg=n", "level=CRIT msg=c", "level=DEBUG msg=d"}},
		{FormatAuto, false, []string{"level=NOTICE msg=n", "level=CRIT msg=c", "level=DEBUG msg=d"}},
		{FormatJSON, false, []string{`"level":"NOTICE","msg":"n"`, `"level":"CRIT","msg":"c"`, `"level":"DEBUG","msg":"d"`}},
		{FormatTint, false, []string{" NOTICE n", " CRIT c", " DEBUG d"}},
		{FormatAuto, true, []string{"\x1b[96mNOTICE\x1b[0m n", "\x1b[91mCRIT\x1b[0m c", " DEBUG d"}},
	}
	for _, tt := range tests {
		name := tt.format
		if tt.terminal {
			name += "/terminal"
		}
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			lv := new(slog.LevelVar)
			lv.Set(LevelNotice)
			log := slog.New(NewStderrHandler(&buf, tt.format, tt.terminal, lv))
			log.Log(context.Background(), LevelNotice, "n")
			log.Log(context.Background(), LevelCrit, "c")
			log.Debug("hidden")
			lv.Set(LevelDebug)
			log.Debug("d")
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tt.want), buf.String())
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d %q does not contain %q", i, lines[i], w)
				}
			}
			if tt.format == FormatJSON {
				var m map[string]any
				if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
					t.Error(err)
				}
			}
			if !tt.terminal && strings.Contains(buf.String(), "\x1b[") {
				t.Errorf("colour without a terminal:\n%q", buf.String())
			}
		})
	}
}
