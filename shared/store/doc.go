// Package store is the replicated key-value store every authok node runs on.
//
// A write is a transaction (Txn): preconditions on key versions, then puts and
// deletes, applied atomically to Pebble as one batch. On a Raft cluster the
// transaction is a log entry; the FSM that applies it is deliberately dumb and
// knows nothing of tenants, clients or users: business rules live above it in
// typed repositories.
//
// Every stored value carries its version: the Raft index of its last write.
// Reads are local and never block on the network. Writes on a follower or an
// edge (a non-voter) are forwarded to the leader over the authenticated
// internal endpoint, and the call returns only after the local store has
// applied the write's index (read-your-writes).
//
// Two implementations share one contract, checked by storetest:
//   - Local: a single Pebble database with no Raft, for tests and tools.
//   - Node: a member of a Raft cluster (voter or non-voter).
//
// This package must never import edge/ or control/.
package store
