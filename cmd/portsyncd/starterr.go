package main

import (
	"errors"

	"github.com/sonic-go/portsyncd/instance"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// isConfigError reports whether a start failed on something that no retry
// or restart mends, so that the exit status says "configuration"
// (ExitConfig) and systemd or supervisord do not loop on it: another
// portsyncd holds this namespace and these databases, a database number the
// server lacks, or a password or ACL that refuses portsyncd.
func isConfigError(err error) bool {
	return errors.Is(err, instance.ErrHeld) || errors.Is(err, sonicdb.ErrNoDatabase) || errors.Is(err, sonicdb.ErrRefused)
}
