// Package test holds portsyncd's integration tests: the real daemon binary,
// in its own network namespace with veth ports whose link partners live in a
// second namespace, against a private redis-server, with a stand-in for
// orchagent. They need root, iproute2 and redis-server, and skip without.
package test
