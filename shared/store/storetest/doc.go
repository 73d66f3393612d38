// Package storetest is the conformance suite of store.Store: every
// implementation (the plain Pebble store, a Raft cluster reached through its
// leader or through a follower) runs the same tests, so replicated behaves
// exactly like local.
//
// It also starts real Raft clusters on loopback for other packages' tests
// (NewCluster), with timeouts suited to a starved machine running the race
// detector (StarvedTimeouts) unless a test about failover asks for short
// ones, and writes the way a careful client does (ApplyAsClient): a write
// whose outcome is unknown is decided by re-reading, not reported as a
// failure, in tests that are not about ambiguous outcomes; PrefixBytes
// measures what a key prefix holds. Waits are on
// conditions, bounded by a minute so that only a fault fails a test.
package storetest
