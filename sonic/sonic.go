package sonic

import "strconv"

// Tables and keys (SONIC_CONTRACT.md section 1). A key is the table, the
// database's separator and the entry: dbconfig.Database.Key joins them.
const (
	// PortTable is APPL_DB's and STATE_DB's table of ports.
	PortTable = "PORT_TABLE"
	// ConfigPortTable is CONFIG_DB's table of configured ports.
	ConfigPortTable = "PORT"
	// DeviceMetadata holds the switch's settings under DeviceMetadataKey.
	DeviceMetadata    = "DEVICE_METADATA"
	DeviceMetadataKey = "localhost"
	// FieldSwitchType is DEVICE_METADATA|localhost's switch type;
	// DefaultSwitchType when absent. On a SwitchTypeDPU there are no old
	// interfaces (section 2, step 6).
	FieldSwitchType   = "switch_type"
	DefaultSwitchType = "switch"
	SwitchTypeDPU     = "dpu"
	// WarmEnableTable holds FieldEnable ("true") under "system" or "swss"
	// when a warm restart is enabled (section 2, step 2).
	WarmEnableTable = "WARM_RESTART_ENABLE_TABLE"
	FieldEnable     = "enable"
	Enabled         = "true"
	// WarmRestartTable holds FieldRestoreCount under DaemonName.
	WarmRestartTable  = "WARM_RESTART_TABLE"
	FieldRestoreCount = "restore_count"
	// DaemonName is portsyncd's key in WARM_RESTART_TABLE and LOGGER.
	DaemonName = "portsyncd"
)

// WarmEnableScopes are the WARM_RESTART_ENABLE_TABLE keys that make a start
// warm, in the order they are read.
func WarmEnableScopes() []string { return []string{"system", "swss"} }

// The producer protocol's names for a table (section 3).
const (
	// KeySetSuffix: <table>_KEY_SET, the keys with a pending change.
	KeySetSuffix = "_KEY_SET"
	// StagingPrefix: _<table><sep><key>, the staging hash of a change.
	StagingPrefix = "_"
	// ChannelSuffix: <table>_CHANNEL@<db id>, the consumer's channel.
	ChannelSuffix = "_CHANNEL@"
	// ChannelMessage is what is published to wake the consumer.
	ChannelMessage = "G"
)

// KeySet returns the producer's set of keys with a pending change in table.
func KeySet(table string) string { return table + KeySetSuffix }

// Channel returns the channel the consumer of table in APPL_DB number db
// listens on.
func Channel(table string, db int) string { return table + ChannelSuffix + strconv.Itoa(db) }

// Staging returns the staging hash of a change to key, given key's full name
// (table, separator, entry).
func Staging(fullKey string) string { return StagingPrefix + fullKey }

// CONFIG_DB LOGGER|<daemon> (section 5), as SONiC's swssloglevel and `config
// syslog` tooling read and write it.
const (
	// LoggerTable is CONFIG_DB's table of per-daemon logging settings.
	LoggerTable = "LOGGER"
	// FieldLogLevel holds SONiC's level name.
	FieldLogLevel = "LOGLEVEL"
	// FieldLogOutput names where SONiC's C++ logger writes. portsyncd
	// writes its default for SONiC's tools but does not follow it.
	FieldLogOutput = "LOGOUTPUT"
	// DefaultLogLevel and DefaultLogOutput are SONiC's defaults, written
	// when the key has no such field.
	DefaultLogLevel  = "NOTICE"
	DefaultLogOutput = "SYSLOG"
)

// STATE_DB PORT_TABLE|<name> (section 4, rule 7), and APPL_DB's admin_status
// that marks a port orchagent initialised (section 2, step 5).
const (
	FieldState       = "state"
	FieldOperStatus  = "netdev_oper_status"
	FieldAdminStatus = "admin_status"
	FieldMTU         = "mtu"
	// StateOK is the state field's value: the port's netdev exists.
	StateOK = "ok"
	Up      = "up"
	Down    = "down"
)

// UpDown is SONiC's spelling of a status: "up" or "down".
func UpDown(up bool) string {
	if up {
		return Up
	}
	return Down
}

// StateFields returns the field, value pairs portsyncd HSETs into STATE_DB
// PORT_TABLE|<name> for a NEWLINK, in the original's order. mtu is the MTU
// already in decimal.
func StateFields(adminUp, operUp bool, mtu string) []string {
	return []string{FieldState, StateOK, FieldOperStatus, UpDown(operUp), FieldAdminStatus, UpDown(adminUp), FieldMTU, mtu}
}

// The markers portsyncd publishes in APPL_DB PORT_TABLE (section 2, steps 4
// and 7).
const (
	PortConfigDone = "PortConfigDone"
	PortInitDone   = "PortInitDone"
)

// Fields of the markers' payloads, and of a port's configuration that
// portsyncd reads (status shows them).
const (
	FieldCount = "count"
	FieldLanes = "lanes"
	FieldSpeed = "speed"
)

// PortConfigDoneFields is PortConfigDone's payload: count = the number of
// ports published.
func PortConfigDoneFields(ports int) []string { return []string{FieldCount, strconv.Itoa(ports)} }

// PortInitDoneFields is PortInitDone's payload: lanes = 0.
func PortInitDoneFields() []string { return []string{FieldLanes, "0"} }

// IsMarker reports whether name is one of portsyncd's markers. A CONFIG_DB
// port of that name would be published as the marker, so it is refused.
func IsMarker(name string) bool { return name == PortConfigDone || name == PortInitDone }

// Interface flags from <linux/if.h> that SONiC reads; every other flag is
// no change to SONiC.
const (
	FlagUp      = 0x1  // IFF_UP: administratively up (admin_status).
	FlagRunning = 0x40 // IFF_RUNNING: operationally up (netdev_oper_status).
	// FlagsRead masks ifi_flags down to FlagUp and FlagRunning.
	FlagsRead = FlagUp | FlagRunning
)

// AdminUp reports IFF_UP in ifi_flags.
func AdminUp(flags uint32) bool { return flags&FlagUp != 0 }

// OperUp reports IFF_RUNNING in ifi_flags.
func OperUp(flags uint32) bool { return flags&FlagRunning != 0 }
