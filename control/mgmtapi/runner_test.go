package mgmtapi_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/action"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
)

// testRunner is the action.Runner the handler tests give the API: a real
// one for WebAssembly modules, over the sandbox (Validate to check, a
// load and one invocation to test). JavaScript needs the JS engine the
// executor wires in cmd/authok; here its check only looks for an entry
// point per trigger, and a JS test run is refused.
type testRunner struct {
	rt     *sandbox.Runtime
	seq    atomic.Int64
	checks atomic.Int64 // Check calls, for the tests that count them
}

func newTestRunner(ctx context.Context) (*testRunner, error) {
	rt, err := sandbox.New(ctx, sandbox.Config{})
	if err != nil {
		return nil, err
	}
	return &testRunner{rt: rt}, nil
}

func (r *testRunner) close() { _ = r.rt.Close(context.Background()) }

// entryPoints are the JS entry functions of each trigger (Auth0 and
// Authok names).
var entryPoints = map[abi.Trigger][]string{
	abi.PostLogin:            {"onExecutePostLogin", "onPostLogin"},
	abi.CredentialsExchange:  {"onExecuteCredentialsExchange"},
	abi.PreUserRegistration:  {"onExecutePreUserRegistration"},
	abi.PostUserRegistration: {"onExecutePostUserRegistration", "onPostUserRegister"},
	abi.PostChangePassword:   {"onExecutePostChangePassword"},
	abi.SendPhoneMessage:     {"onExecuteSendPhoneMessage"},
}

func (r *testRunner) Check(ctx context.Context, c action.Code, triggers []abi.Trigger) error {
	r.checks.Add(1)
	kind, err := action.ParseRuntime(c.Runtime)
	if err != nil {
		return fmt.Errorf("%w: %v", action.ErrInvalidCode, err)
	}
	if kind == action.KindWasm {
		if err := r.rt.Validate(ctx, c.Module); err != nil {
			return fmt.Errorf("%w: %w", action.ErrInvalidCode, err)
		}
		return nil
	}
	for _, t := range triggers {
		found := false
		for _, name := range entryPoints[t] {
			found = found || strings.Contains(c.Source, "exports."+name)
		}
		if !found {
			return fmt.Errorf("%w: no exports.%s for trigger %s", action.ErrInvalidCode, entryPoints[t][0], t.ID())
		}
	}
	return nil
}

func (r *testRunner) Test(ctx context.Context, c action.Code, trigger abi.Trigger, event []byte) (action.TestResult, error) {
	if kind, _ := action.ParseRuntime(c.Runtime); kind != action.KindWasm {
		return action.TestResult{}, fmt.Errorf("%w: this test runner runs wasm modules only", action.ErrInvalidCode)
	}
	key := fmt.Sprintf("test/%d", r.seq.Add(1))
	v, err := r.rt.Load(ctx, key, c.Module)
	if err != nil {
		return action.TestResult{}, fmt.Errorf("%w: %w", action.ErrInvalidCode, err)
	}
	defer r.rt.Unload(key)
	out, err := v.Invoke(ctx, sandbox.Call{Trigger: trigger, Event: event})
	return action.TestResult{Result: out.Result, Logs: out.Logs, LogsTruncated: out.LogsTruncated}, err
}

// Modules the tests upload, in WAT.
const (
	// watClaim logs a line and sets one claim.
	watClaim = `(module
  (import "authok" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wat")
  (data (i32.const 64) "{\"commands\":[{\"type\":\"SetCustomClaim\",\"data\":{\"target\":\"accessToken\",\"name\":\"https://example.com/tier\",\"value\":\"gold\"}}]}")
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param $n i32) (result i32)
    (if (result i32) (i32.gt_u (local.get $n) (i32.const 60000)) (then (i32.const 0)) (else (i32.const 4096))))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64)
    (call $log (i32.const 16) (i32.const 14))
    (i64.or (i64.shl (i64.const 64) (i64.const 32)) (i64.const 121))))`
	// watLoop never returns: the test run hits the deadline.
	watLoop = `(module
  (memory (export "memory") 1)
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64)
    (loop $l (br $l)) (i64.const 0)))`
	// watNoExports is a module that implements nothing of the ABI.
	watNoExports = `(module (memory (export "memory") 1))`
	// watEnvImport imports a host function nobody grants.
	watEnvImport = `(module
  (import "env" "fetch" (func (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "authok_abi_v1"))
  (func (export "authok_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "authok_on_trigger") (param i32 i32 i32) (result i64) (i64.const 0)))`
)

var (
	watMu    sync.Mutex
	watCache = map[string][]byte{}
)

// wasm compiles WAT source with wabt's wat2wasm. Without wat2wasm the
// test is skipped, except under CI=true, where it fails.
func wasm(t testing.TB, src string) []byte {
	t.Helper()
	watMu.Lock()
	defer watMu.Unlock()
	if b, ok := watCache[src]; ok {
		return b
	}
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("wat2wasm (Debian package wabt) is needed under CI: %v", err)
		}
		t.Skip("wat2wasm not installed (apt-get install wabt)")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(in, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(bin, in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	watCache[src] = b
	return b
}
