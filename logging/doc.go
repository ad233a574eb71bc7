// Package logging owns how portsyncd's log lines leave the process and which
// of them do.
//
// It owns:
//   - the handlers: stderr (tint for a person at a terminal, logfmt or JSON
//     otherwise), syslog (RFC 3164 as glibc's syslog(3) writes it, for the
//     local socket that rsyslog or journald reads, or RFC 5424 with
//     structured data, over unixgram, UDP or TCP with octet counting) and
//     journald (the journal's native protocol);
//   - choosing the output (auto: the journal, else /dev/log, else stderr) and
//     falling back to stderr, saying so, when the one chosen cannot be
//     reached at start; the reason for an exit on stderr too (Fatal);
//   - SONiC's eight level names (EMERG ... DEBUG), their slog levels, their
//     syslog severities, and the one *slog.LevelVar that governs every handler;
//   - following CONFIG_DB LOGGER|portsyncd LOGLEVEL at run time (FollowLevel);
//   - routing go-redis's and protoactor-go's own messages through the same
//     handler;
//   - the attribute keys other packages log under (KeyPort, KeyIfindex ...), so
//     that the structured fields an operator queries are spelled one way.
//
// It must never:
//   - block the caller: syslog and journald lines go through a bounded queue
//     drained by one goroutine per destination; when the queue is full the
//     line is dropped and counted (Dropped), never waited for;
//   - exit the process or decide anything about ports or Redis state: a
//     destination that goes down after start is retried with backoff, for
//     ever;
//   - change Redis configuration (such as notify-keyspace-events) or overwrite
//     an operator's LOGGER|portsyncd fields: it only adds the ones missing.
package logging
