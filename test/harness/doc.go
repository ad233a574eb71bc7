// Package harness provides the real moving parts that portsyncd
// integration tests need, and owns their whole life cycle.
//
// The package owns:
//
//   - private redis-server instances listening on a unix socket (and, on
//     request, on a TCP port of 127.0.0.1) in a
//     per-test temporary directory (Redis), plus a SONiC style
//     database_config.json that points at them;
//   - network namespaces with a "psd-" prefix (Netns) holding veth ports
//     named like SONiC front-panel ports, whose peers live in a partner
//     namespace that plays the link partner;
//   - a stand-in for SONiC's orchagent (Orchagent) that consumes PORT_TABLE
//     from APPL_DB with the producer/consumer state table protocol;
//   - the portsyncd binary built from ./cmd/portsyncd and the processes
//     started from it (Daemon);
//   - small polling helpers (Eventually, RequireRoot).
//
// Every resource is released through t.Cleanup, also when the test fails:
// processes are killed and waited for, goroutines are stopped and waited for,
// namespaces are deleted and checked to be gone. Setup helpers call
// t.Helper and report setup errors with t.Fatalf, so they must be called
// from the goroutine running the test.
//
// Most helpers need root, the ip tool of iproute2 and redis-server; tests
// call RequireRoot first so that they are skipped elsewhere.
package harness
