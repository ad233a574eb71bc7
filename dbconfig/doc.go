// Package dbconfig reads SONiC's Redis database layout: database_config.json,
// which names the Redis instances and the logical databases (APPL_DB,
// CONFIG_DB, STATE_DB, ...) that live in them, and database_global.json, which
// maps each network namespace of a multi-ASIC system to its own
// database_config.json.
//
// The package owns parsing and validating those two files and turning a
// database entry into go-redis options and table keys. It never connects to
// Redis or anything else, never writes files, and reads only the path it is
// given, so callers decide when and how connections are made.
//
// Every error about the content of a file, and every lookup of a database or
// namespace the configuration does not define, matches ErrInvalid with
// errors.Is. Errors from reading a file do not; they wrap the underlying
// operating system error instead, so errors.Is(err, fs.ErrNotExist) works.
package dbconfig
