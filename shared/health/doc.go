// Package health is the readiness contract between the HTTP servers and the
// layers that know whether a node can serve.
//
// It owns one small interface, Checker, the Func adapter, and the /readyz
// answer (Probe, Body) so that every server renders readiness the same way.
// The servers (edge/server, control/server) answer /readyz by asking a
// Checker; the store layer provides the real one (leader known, local apply
// index within a bound of the leader's commit index).
//
// This package must never import edge/ or control/, must never decide
// readiness itself, and must stay free of non-standard dependencies: both
// planes import it.
package health
