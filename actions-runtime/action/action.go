package action

import (
	"context"
	"errors"
	"fmt"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
)

// Runtimes an action may name (API.md C.9 `runtime`). The node versions
// all run the same JavaScript engine inside the sandbox; they are kept
// because Auth0 and Authok clients send them. An absent runtime is JS.
const (
	RuntimeNode16 = "node16"
	RuntimeNode18 = "node18"
	RuntimeNode20 = "node20"
	RuntimeWasm   = "wasm"
)

// DefaultRuntime is what an action without a runtime gets (the backend's
// default).
const DefaultRuntime = RuntimeNode16

// Kind is how a runtime executes.
type Kind int

// The two ways an action runs.
const (
	KindJS Kind = iota + 1
	KindWasm
)

// ErrUnknownRuntime is returned by ParseRuntime for a runtime not listed
// above.
var ErrUnknownRuntime = errors.New("unknown action runtime")

// ParseRuntime classifies a runtime name; "" is JavaScript.
func ParseRuntime(name string) (Kind, error) {
	switch name {
	case "", RuntimeNode16, RuntimeNode18, RuntimeNode20:
		return KindJS, nil
	case RuntimeWasm:
		return KindWasm, nil
	}
	return 0, fmt.Errorf("%w %q (use node16, node18, node20 or wasm)", ErrUnknownRuntime, name)
}

// Code is what one action version runs: JavaScript source or a
// WebAssembly module, and the action's secrets (event.secrets).
type Code struct {
	Runtime string
	Source  string // JavaScript source (KindJS)
	Module  []byte // WebAssembly module (KindWasm)
	Secrets map[string]string
}

// ErrInvalidCode wraps every reason Check refuses code for; the
// Management API answers 400 with the error's text, which names the
// problem (a missing export, a syntax error, a require of a module that
// is not available) and never a secret.
var ErrInvalidCode = errors.New("invalid action code")

// TestResult is what a test run produced (API.md D.3's TriggerResult):
// the decoded commands, the captured logs, and the errors the action
// reported itself.
type TestResult struct {
	Result        abi.Result
	Logs          []sandbox.Log
	LogsTruncated bool
}

// Runner checks and test-runs action code. The executor implements it on
// every node; the Management API calls it on the control plane.
type Runner interface {
	// Check validates code for the given triggers without keeping it: a
	// module against ABI v1 (docs/actions-abi.md); JavaScript for syntax,
	// an entry point for each trigger (Auth0 or Authok name) and requires
	// of unavailable modules. A refusal wraps ErrInvalidCode.
	Check(ctx context.Context, c Code, triggers []abi.Trigger) error
	// Test runs code once for trigger on event (the trigger's event JSON,
	// API.md D.2; the runner adds c.Secrets as event.secrets). A failure
	// of the action (timeout, trap, out of memory, invalid output) is an
	// error wrapping sandbox's typed errors; errors the action reported
	// itself are in TestResult.Result.Errors.
	Test(ctx context.Context, c Code, trigger abi.Trigger, event []byte) (TestResult, error)
}
