package logging

import (
	"log/slog"
	"testing"
)

func TestParseSONiCLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{"EMERG", LevelEmerg, false},
		{"ALERT", LevelAlert, false},
		{"CRIT", LevelCrit, false},
		{"ERROR", LevelError, false},
		{"WARN", LevelWarn, false},
		{"NOTICE", LevelNotice, false},
		{"INFO", LevelInfo, false},
		{"DEBUG", LevelDebug, false},
		{"notice", LevelNotice, false},
		{"Debug", LevelDebug, false},
		{"", 0, true},
		{"WARNING", 0, true}, // syslog's name, not SONiC's
		{"ERR", 0, true},
		{"INFO+2", 0, true}, // slog syntax is for the command line only
		{" NOTICE", 0, true},
		{"LOUD", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSONiCLevel(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSONiCLevel(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("ParseSONiCLevel(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{"debug", LevelDebug, false},
		{"info", LevelInfo, false},
		{"warn", LevelWarn, false},
		{"error", LevelError, false},
		{"NOTICE", LevelNotice, false},
		{"crit", LevelCrit, false},
		{"INFO+2", LevelNotice, false},
		{"emerg", LevelEmerg, false},
		{"loud", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseLevel(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("ParseLevel(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSeverityAndName(t *testing.T) {
	tests := []struct {
		level    slog.Level
		severity int
		name     string
	}{
		{LevelEmerg + 5, 0, "EMERG+5"},
		{LevelEmerg, 0, "EMERG"},
		{LevelAlert, 1, "ALERT"},
		{LevelCrit, 2, "CRIT"},
		{LevelError, 3, "ERROR"},
		{LevelError + 1, 3, "ERROR+1"},
		{LevelWarn, 4, "WARN"},
		{LevelNotice, 5, "NOTICE"},
		{LevelNotice + 1, 5, "NOTICE+1"},
		{LevelInfo, 6, "INFO"},
		{LevelInfo + 1, 6, "INFO+1"},
		{LevelDebug, 7, "DEBUG"},
		{LevelDebug - 4, 7, "DEBUG-4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Severity(tt.level); got != tt.severity {
				t.Errorf("Severity(%d) = %d, want %d", tt.level, got, tt.severity)
			}
			if got := LevelName(tt.level); got != tt.name {
				t.Errorf("LevelName(%d) = %q, want %q", tt.level, got, tt.name)
			}
		})
	}
}
