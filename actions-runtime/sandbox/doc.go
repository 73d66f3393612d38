// Package sandbox runs tenants' Action modules in wazero under the ABI of
// actions-runtime/abi.
//
// A Runtime validates and compiles a module once per content (sharing
// compiled code between versions with identical bytes, through a wazero
// compilation cache kept in memory or on disk), loads it as a Version
// under a caller-chosen key (tenant/action/version), and keeps a bounded
// pool of warm instances per Version (Warm fills it ahead of calls);
// versions form an LRU. Invoke writes the event into a pooled instance,
// or a fresh one when none is idle, calls it under a deadline, and
// decodes the result with abi.Decode. Failures are typed (errors.go).
//
// DESIGN.md states what the sandbox guarantees: what a module can reach,
// the limits, and exactly what persists between invocations.
package sandbox
