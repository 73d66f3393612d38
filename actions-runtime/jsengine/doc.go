// Package jsengine runs JavaScript Actions, written as Auth0 and Authok
// users write them (exports.onExecuteCredentialsExchange = async (event,
// api) => {...}), inside the WebAssembly sandbox: the engine is goja built
// for wasip1 as an ABI v1 reactor (./guest), embedded from dist/engine.wasm
// (make engine; a binary built without it answers ErrNoEngine).
//
// Every JS action version loads the same engine module with its own init
// payload (the source and its triggers): the sandbox compiles the engine
// once per node (Engine.Hold at start-up), and each new instance runs the
// action's top level once in its own goja VM through authok_init. A call
// then gets a fresh event (the JSON the host passes, event.secrets
// included) and a fresh api object whose methods (API.md D.3, only those
// the trigger accepts) become the result's commands; console output is the
// invocation's logs; a thrown error or rejected promise is the result's
// errors; a promise that never settles is an error, never a wait.
//
// What persists: the action's module scope and globals live in the
// instance's VM, so they may persist between calls of one version on one
// pooled instance (and must not be relied on); nothing is shared between
// versions, actions or tenants, which never share an instance.
//
// API for the executor: Embedded (or New), Engine.Hold, Engine.Check at
// deploy (wraps action.ErrInvalidCode), Engine.Load (or rt.Load with
// LoadOptions) and Version.Invoke as for any module. require() offers no
// module in this version; Check refuses any require with an error saying
// npm dependencies are not supported.
package jsengine
