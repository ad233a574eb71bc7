package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/sonic"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// levelPoll is how often CONFIG_DB LOGGER|portsyncd is read again, for
// when keyspace notifications are off or were missed.
const levelPoll = 10 * time.Second

// logFlags are the command line's logging flags.
type logFlags struct {
	level, output, format, syslogAddr, syslogFormat, journalSocket string
}

func addLogFlags(fs *flag.FlagSet) *logFlags {
	f := &logFlags{}
	fs.StringVar(&f.level, "log-level", "info", "log level until CONFIG_DB LOGGER|portsyncd LOGLEVEL is read: "+
		"EMERG, ALERT, CRIT, ERROR, WARN, NOTICE, INFO or DEBUG (or debug, info, warn, error)")
	fs.StringVar(&f.output, "log-output", logging.OutputAuto, "where logs go: auto (journald when stderr is the journal's stream, "+
		"else stderr on a terminal, else syslog when the --syslog-addr socket exists, else stderr), stderr, syslog or journald; "+
		"one that cannot be reached at start is replaced by stderr, with a line saying so")
	fs.StringVar(&f.format, "log-format", logging.FormatAuto, "stderr format: auto (tint on a terminal, text otherwise), tint, text or json")
	fs.StringVar(&f.syslogAddr, "syslog-addr", logging.DefaultSyslogAddr, "syslog destination: unixgram://PATH, udp://HOST:PORT or tcp://HOST:PORT (RFC 6587 octet counting)")
	fs.StringVar(&f.syslogFormat, "syslog-format", logging.SyslogFormatAuto, "syslog line format: auto (rfc3164 on unixgram, as glibc's syslog(3) and "+
		"SONiC's rsyslog expect; rfc5424 on udp and tcp), rfc3164 or rfc5424 (structured data)")
	fs.StringVar(&f.journalSocket, "journal-socket", logging.DefaultJournalSocket, "journald's native-protocol `socket`")
	return f
}

// open builds the process's logging from the flags and routes go-redis's
// own messages through it.
func (f *logFlags) open(stderr io.Writer) (*logging.Logging, *slog.LevelVar, error) {
	level, err := logging.ParseLevel(f.level)
	if err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: want EMERG, ALERT, CRIT, ERROR, WARN, NOTICE, INFO or DEBUG", f.level)
	}
	lv := new(slog.LevelVar)
	lv.Set(level)
	lg, err := logging.New(logging.Config{
		Output:        f.output,
		Format:        f.format,
		SyslogAddr:    f.syslogAddr,
		SyslogFormat:  f.syslogFormat,
		JournalSocket: f.journalSocket,
		Level:         lv,
		Stderr:        stderr,
		JournalStream: os.Getenv("JOURNAL_STREAM"),
	})
	if err != nil {
		return nil, nil, err
	}
	redis.SetLogger(logging.NewRedisLogger(lg.Logger))
	return lg, lv, nil
}

// followLevel runs logging.FollowLevel on CONFIG_DB LOGGER|portsyncd until
// the returned stop is called (or ctx ends); stop waits for it.
func followLevel(ctx context.Context, config *sonicdb.DB, lv *slog.LevelVar, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = logging.FollowLevel(ctx, config.Client, config.Key(sonic.LoggerTable, sonic.DaemonName), lv, log, levelPoll)
	}()
	return func() {
		cancel()
		<-done
	}
}
