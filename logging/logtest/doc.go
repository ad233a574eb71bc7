// Package logtest has what tests need to check portsyncd's log output as a
// receiver sees it: strict parsers for RFC 5424 syslog messages and for the
// journal's native protocol, and listeners (unixgram, UDP and TCP syslog; a
// journal socket) that parse every message they receive.
//
// It is for tests only: it fails the test it is given and never retries or
// repairs what it parses.
package logtest
