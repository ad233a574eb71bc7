// Package pipeline spawns, as a unit, the actors that serve one (network
// namespace, databases) pair: netlinkrx, portstate and dbwriter, on one
// actors.Loop, under a parent that supervises them. Their configurations are
// complete and immutable before the first is spawned: every actor's address
// is known from its name, so nothing is patched in afterwards and no state
// is shared between them.
//
// It never decides restart policy (the parent's) and runs no start-up
// sequence (package startup).
package pipeline
