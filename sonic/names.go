package sonic

import (
	"fmt"
	"strings"
)

// IfNameMax is the longest name a Linux netdev may have, in bytes
// (IFNAMSIZ - 1).
const IfNameMax = 15

// Name prefixes (section 4, rule 2, and section 2, step 6).
const (
	EthernetPrefix    = "Ethernet"
	PortChannelPrefix = "PortChannel"
	// OldInterfacePrefix: on a cold start, existing links of this name
	// are old interfaces.
	OldInterfacePrefix = EthernetPrefix
	// TeamKind is IFLA_INFO_KIND of a team device: teamsyncd owns it.
	TeamKind = "team"
)

// IsPortName reports whether SONiC's portsyncd follows a link of this name:
// Ethernet* or PortChannel*.
func IsPortName(name string) bool {
	return strings.HasPrefix(name, EthernetPrefix) || strings.HasPrefix(name, PortChannelPrefix)
}

// IsOldInterfaceName reports whether a link existing at a cold start under
// this name is an old interface.
func IsOldInterfaceName(name string) bool { return strings.HasPrefix(name, OldInterfacePrefix) }

// NeverNetdev says why a configured port name can never be the name of a
// link portsyncd follows, or returns "" when it can be one. The rules are
// the kernel's (dev_valid_name in net/core/dev.c: not empty, at most 15
// bytes, not "." or "..", no '/', ':' or white space; a '%' makes the
// kernel pick a name from a template, so no link keeps it) and IsPortName.
// PortInitDone waits for such a port for ever.
func NeverNetdev(name string) string {
	switch {
	case name == "":
		return "empty name"
	case len(name) > IfNameMax:
		return fmt.Sprintf("longer than %d bytes (%d)", IfNameMax, len(name))
	case name == "." || name == "..":
		return "not a link name"
	case strings.ContainsAny(name, "/:%\x00"):
		return fmt.Sprintf("contains %q", name[strings.IndexAny(name, "/:%\x00")])
	case hasKernelSpace(name):
		return "contains white space"
	case !IsPortName(name):
		return "not named Ethernet* or PortChannel*, so never followed"
	}
	return ""
}

// hasKernelSpace reports whether a byte of name is white space to the
// kernel's isspace(): ASCII's, and Latin-1's no-break space (0xA0). Names
// are bytes to the kernel, so UTF-8 is not decoded.
func hasKernelSpace(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0 {
			return true
		}
	}
	return false
}

// NeverAppear returns, for those of pending that can never appear as a
// followed link, why not (NeverNetdev), keyed by name; nil when there are
// none.
func NeverAppear(pending []string) map[string]string {
	var out map[string]string
	for _, n := range pending {
		if why := NeverNetdev(n); why != "" {
			if out == nil {
				out = make(map[string]string)
			}
			out[n] = why
		}
	}
	return out
}
