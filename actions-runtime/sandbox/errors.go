package sandbox

import "errors"

// Typed failures. Every error Invoke returns wraps exactly one of them
// (or the caller's context error when the caller gave up first); match
// with errors.Is. Messages name what the module did, never event data or
// secrets.
var (
	// ErrTimeout: the invocation (or the instance's initialisation) ran
	// past its deadline and was stopped.
	ErrTimeout = errors.New("action timed out")
	// ErrTrap: the module crashed (a WebAssembly trap, a Go panic that
	// exits, a host function misuse that is not an ABI violation).
	ErrTrap = errors.New("action crashed")
	// ErrOutOfMemory: the module asked for memory past the ceiling.
	ErrOutOfMemory = errors.New("action ran out of memory")
	// ErrInvalidOutput: the result is too large, not JSON, or refused by
	// abi.Decode (for instance a restricted claim such as sub or aud).
	ErrInvalidOutput = errors.New("action returned an invalid result")
	// ErrDenied: the module broke the ABI at run time (alloc returned no
	// room or an out-of-bounds pointer, a pointer outside its memory).
	ErrDenied = errors.New("action broke the module ABI")
	// ErrInvalidModule: the module was refused before it ever ran (not
	// WebAssembly, too large, a missing export, a forbidden import).
	ErrInvalidModule = errors.New("invalid action module")
	// ErrInit: the module's authok_init refused the version's init payload
	// (for the JS engine: the action's source; the message it returned
	// follows), or failed on it: then the error also wraps ErrTimeout,
	// ErrTrap or ErrOutOfMemory. A failure before authok_init runs (Go's
	// runtime start-up, say) is not ErrInit.
	ErrInit = errors.New("action initialisation failed")
	// ErrClosed: the version was closed or evicted; load it again.
	ErrClosed = errors.New("action version is closed")
)
