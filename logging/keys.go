package logging

// Attribute keys. Log under these, so that each field is spelled one way in
// every output: as a slog key on stderr, as an SD-PARAM in syslog's
// [port@32473 ...] element, and as an upper-case journal field (PORT=,
// IFINDEX=, ...) that journalctl can match on.
const (
	// KeyPort is the port (netdev) name, e.g. "Ethernet0". Syslog writes it
	// as name="..." in the port element; the journal as PORT=.
	KeyPort = "port"
	// KeyIfindex is the kernel's interface index.
	KeyIfindex = "ifindex"
	// KeyEvent is what happened to the port: "newlink", "dellink" ...
	KeyEvent = "event"
	// KeyAdmin is the admin status written, "up" or "down".
	KeyAdmin = "admin"
	// KeyOper is the oper status written, "up" or "down".
	KeyOper = "oper"
	// KeyMTU is the MTU written.
	KeyMTU = "mtu"
	// KeyLatencyUS is the time in microseconds from the kernel's event to
	// the Redis write that reflects it.
	KeyLatencyUS = "latency_us"
	// KeyActor names the actor that logs the line.
	KeyActor = "actor"
	// KeyErr holds an error.
	KeyErr = "err"
	// KeyNamespace names the ASIC namespace (--namespace) a line is about;
	// the journal writes it as NAMESPACE=.
	KeyNamespace = "namespace"
	// KeyLib names the library a line comes from ("go-redis",
	// "protoactor").
	KeyLib = "lib"
)
