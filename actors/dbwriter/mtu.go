package dbwriter

import "strconv"

// mtuStrings caches the decimal form of common MTUs so that writing a port's
// state does not allocate.
var mtuStrings = func() map[uint32]string {
	m := make(map[uint32]string)
	for _, v := range []uint32{0, 68, 576, 1280, 1500, 1514, 1518, 9000, 9100, 9216, 9232, 65535, 65536} {
		m[v] = strconv.FormatUint(uint64(v), 10)
	}
	return m
}()

func mtuString(mtu uint32) string {
	if s, ok := mtuStrings[mtu]; ok {
		return s
	}
	return strconv.FormatUint(uint64(mtu), 10)
}
