// Package executor runs tenants' deployed Actions on a node. One Executor
// per node: it watches the replicated store, keeps every tenant's bound
// action versions compiled and loaded in one sandbox.Runtime (in the
// background, never on a request), writes this node's build result of
// each version, and runs a trigger's chain of bound actions in binding
// order (Run). It also implements action.Runner (Check, Test), which the
// Management API calls on the control plane.
//
// DESIGN.md says what it guarantees: what a request sees while a deploy
// is loading, what a version that fails to build does, the deadlines and
// the memory bounds, and how failures are recorded.
//
// Triggers are wired by their callers: a caller builds the trigger's
// event (Event) and maps the commands Run returns to its own effects.
// edge/tokenactions does so for credentials-exchange.
package executor
