// Package abi is the versioned contract between the Actions host and a
// tenant's WebAssembly module (docs/actions-abi.md is its prose): the names
// and signatures a module must export, the host functions it may import,
// the trigger numbers, and the decoder that turns a module's result JSON
// into typed, validated commands (API.md D.3).
//
// Nothing here runs a module; actions-runtime/sandbox does. The decoder is
// also what a JavaScript engine module's output goes through, so every
// language is held to the same rules: registered claims cannot be set,
// sizes are bounded, and a command a trigger cannot honour is refused.
package abi
