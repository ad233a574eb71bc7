package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestParseMemoryLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "off", want: math.MaxInt64},
		{in: "1048576", want: 1 << 20},
		{in: "512B", want: 512},
		{in: "64KiB", want: 64 << 10},
		{in: "48MiB", want: 48 << 20},
		{in: "2GiB", want: 2 << 30},
		{in: "1TiB", want: 1 << 40},
		{in: "0", wantErr: true},
		{in: "-5MiB", wantErr: true},
		{in: "48MB", wantErr: true},
		{in: "", wantErr: true},
		{in: "99999999999TiB", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseMemoryLimit(tt.in)
			if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
				t.Errorf("parseMemoryLimit(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseGOGC(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{in: "100", want: 100},
		{in: "0", want: 0},
		{in: "off", want: -1},
		{in: "OFF", want: -1},
		{in: "-1", wantErr: true},
		{in: "lots", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseGOGC(tt.in)
			if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
				t.Errorf("parseGOGC(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// The environment wins over the flags; without it the flags take effect.
func TestRuntimeFlagsApply(t *testing.T) {
	procs, gc, limit := runtime.GOMAXPROCS(0), currentGCPercent(), debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
	parse := func(args ...string) *runtimeFlags {
		fs := flag.NewFlagSet("portsyncd", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		r := addRuntimeFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return r
	}
	noEnv := func(string) string { return "" }

	if _, err := parse("--gomaxprocs", "1", "--gogc", "50", "--memory-limit", "32MiB").apply(noEnv); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS = %d after --gomaxprocs 1", got)
	}
	if got := currentGCPercent(); got != 50 {
		t.Errorf("GC percent = %d after --gogc 50", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 32<<20 {
		t.Errorf("memory limit = %d after --memory-limit 32MiB", got)
	}

	env := map[string]string{"GOMAXPROCS": "2", "GOGC": "200", "GOMEMLIMIT": "1GiB"}
	settings, err := parse("--gomaxprocs", "3", "--gogc", "off", "--memory-limit", "8MiB").apply(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOMAXPROCS(0) != 1 || currentGCPercent() != 50 || debug.SetMemoryLimit(-1) != 32<<20 {
		t.Errorf("flags applied although the environment sets them: %v", settings)
	}

	// Values the runtime ignores are not the environment's setting: the
	// flags apply, and the log says which were ignored.
	bad := map[string]string{"GOMAXPROCS": "abc", "GOGC": "lots"}
	settings, err = parse("--gomaxprocs", "2", "--gogc", "75").apply(func(k string) string { return bad[k] })
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(settings)
	for _, w := range []string{"gomaxprocs 2 gomaxprocs_from flag", "gogc 75 gogc_from flag", `env_ignored GOMAXPROCS="abc" GOGC="lots"`} {
		if !strings.Contains(got, w) {
			t.Errorf("settings %v: want %q", got, w)
		}
	}

	for _, args := range [][]string{{"--gomaxprocs", "-1"}, {"--gomaxprocs", "257"}, {"--gogc", "x"}, {"--memory-limit", "lots"}} {
		if _, err := parse(args...).apply(noEnv); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestMemoryLimitString(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{math.MaxInt64, "off"}, {64 << 20, "67108864"}, {0, "0"}} {
		if got := memoryLimitString(tt.n); got != tt.want {
			t.Errorf("memoryLimitString(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
