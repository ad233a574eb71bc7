package main

import (
	"flag"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Defaults of the Go runtime settings, chosen by measurement (README,
// "Running it"; BENCHMARKS.md, "Runtime settings"): with one thread running
// Go code, portsyncd switched context 25-45 % less per event, spent less CPU
// per event under load and drained a backlog faster than with two, at no
// measurable cost in latency; GOGC above 100 bought no CPU and cost 14 MiB.
const (
	// maxGOMAXPROCS bounds --gomaxprocs: the daemon's work is one event at
	// a time, and each extra P may become an OS thread; 100000 of them
	// end the process in thread exhaustion.
	maxGOMAXPROCS      = 256
	defaultGOMAXPROCS  = 1
	defaultGOGC        = "100"
	defaultMemoryLimit = "off"
)

// runtimeFlags are the Go runtime settings the daemon makes at start-up. An
// environment variable of the same meaning (GOMAXPROCS, GOGC, GOMEMLIMIT)
// always wins over the flag, so an operator's usual Go knob keeps working.
type runtimeFlags struct {
	gomaxprocs  int
	gogc        string
	memoryLimit string
}

func addRuntimeFlags(fs *flag.FlagSet) *runtimeFlags {
	r := &runtimeFlags{}
	fs.IntVar(&r.gomaxprocs, "gomaxprocs", defaultGOMAXPROCS,
		"threads running Go code at once (`n`); 0: Go's default, one per CPU. The GOMAXPROCS environment variable wins")
	fs.StringVar(&r.gogc, "gogc", defaultGOGC,
		"garbage collector target, percent of live heap (`percent` or off), as GOGC. The GOGC environment variable wins")
	fs.StringVar(&r.memoryLimit, "memory-limit", defaultMemoryLimit,
		"soft memory limit (`size`: bytes, or with B, KiB, MiB or GiB, or off), as GOMEMLIMIT. The GOMEMLIMIT environment variable wins")
	return r
}

// apply validates the flags and sets what the environment does not. It
// returns the settings in force, for the log.
func (r *runtimeFlags) apply(getenv func(string) string) ([]any, error) {
	if r.gomaxprocs < 0 || r.gomaxprocs > maxGOMAXPROCS {
		return nil, fmt.Errorf("--gomaxprocs %d: want 0 (one per CPU) to %d", r.gomaxprocs, maxGOMAXPROCS)
	}
	gogc, err := parseGOGC(r.gogc)
	if err != nil {
		return nil, fmt.Errorf("--gogc %q: %w", r.gogc, err)
	}
	limit, err := parseMemoryLimit(r.memoryLimit)
	if err != nil {
		return nil, fmt.Errorf("--memory-limit %q: %w", r.memoryLimit, err)
	}
	// The runtime ignores a GOMAXPROCS or GOGC it cannot parse (GOMEMLIMIT
	// it refuses before main): such a value is not the environment's
	// setting, the flag's is.
	var ignored []string
	fromEnv := func(env string, valid func(string) bool) bool {
		v := getenv(env)
		if v != "" && !valid(v) {
			ignored = append(ignored, env+"="+strconv.Quote(v))
		}
		return v != "" && valid(v)
	}
	from := func(env bool) string {
		if env {
			return "env"
		}
		return "flag"
	}
	procsEnv, gcEnv, limitEnv := fromEnv("GOMAXPROCS", runtimeGOMAXPROCS), fromEnv("GOGC", runtimeGOGC), getenv("GOMEMLIMIT") != ""
	if !procsEnv && r.gomaxprocs > 0 {
		runtime.GOMAXPROCS(r.gomaxprocs)
	}
	if !gcEnv {
		debug.SetGCPercent(gogc)
	}
	if !limitEnv {
		debug.SetMemoryLimit(limit)
	}
	out := []any{
		"gomaxprocs", runtime.GOMAXPROCS(0), "gomaxprocs_from", from(procsEnv),
		"gogc", currentGCPercent(), "gogc_from", from(gcEnv),
		"memory_limit", memoryLimitString(debug.SetMemoryLimit(-1)), "memory_limit_from", from(limitEnv),
	}
	if len(ignored) > 0 {
		out = append(out, "env_ignored", strings.Join(ignored, " "))
	}
	return out, nil
}

// runtimeGOMAXPROCS reports whether the runtime takes v as GOMAXPROCS: a
// positive 32-bit number.
func runtimeGOMAXPROCS(v string) bool {
	n, err := strconv.ParseInt(v, 10, 32)
	return err == nil && n > 0
}

// runtimeGOGC reports whether the runtime takes v as GOGC: "off" or a
// 32-bit number.
func runtimeGOGC(v string) bool {
	_, err := strconv.ParseInt(v, 10, 32)
	return err == nil || v == "off"
}

// memoryLimitString says "off" for no limit, as the flag does.
func memoryLimitString(n int64) string {
	if n == math.MaxInt64 {
		return "off"
	}
	return strconv.FormatInt(n, 10)
}

// currentGCPercent reads the GC percentage, which the runtime only tells
// by setting it.
func currentGCPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// parseGOGC accepts what GOGC does: a percentage, or "off" (-1).
func parseGOGC(s string) (int, error) {
	if strings.EqualFold(s, "off") {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want a percentage (0 or more) or off")
	}
	return n, nil
}

// parseMemoryLimit accepts what GOMEMLIMIT does (bytes, or a number with
// B, KiB, MiB, GiB or TiB) and "off", which is no limit.
func parseMemoryLimit(s string) (int64, error) {
	if strings.EqualFold(s, "off") {
		return math.MaxInt64, nil
	}
	num, unit := s, int64(1)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			num, unit = v, u.size
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("want a positive size in bytes, optionally with B, KiB, MiB, GiB or TiB, or off")
	}
	return n * unit, nil
}
