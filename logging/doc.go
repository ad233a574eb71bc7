// Package logging owns how portsyncd's log lines leave the process and which
// of them do.
//
// It owns:
//   - the handlers: stderr (tint for a person at a terminal, logfmt or JSON
//     otherwise), syslog (RFC 5424 with structured data, over unixgram, UDP or
//     TCP with octet counting) and journald (the journal's native protocol);
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
//     destination that is down is retried with backoff, for ever;
//   - change Redis configuration (such as notify-keyspace-events) or overwrite
//     an operator's LOGGER|portsyncd fields: it only adds the ones missing.
package logging
