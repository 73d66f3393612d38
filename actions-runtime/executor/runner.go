package executor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/action"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
)

// maxConcurrentTests bounds Test runs in flight: each holds a throwaway
// version in the runtime, in room reserved above MaxVersions, so a test
// never evicts a bound version.
const maxConcurrentTests = 8

var _ action.Runner = (*Executor)(nil)

// ErrInvalidEvent: a Test event that is not a JSON object.
var ErrInvalidEvent = errors.New("the test event must be a JSON object")

// Check implements action.Runner: a module is validated against ABI v1
// (sandbox.Runtime.Validate), JavaScript by the JS engine. It compiles
// nothing it keeps.
func (e *Executor) Check(ctx context.Context, c action.Code, triggers []abi.Trigger) error {
	kind, err := action.ParseRuntime(c.Runtime)
	if err != nil {
		return fmt.Errorf("%w: %w", action.ErrInvalidCode, err)
	}
	for _, t := range triggers {
		if !t.Valid() {
			return fmt.Errorf("%w: unknown trigger %d", action.ErrInvalidCode, int32(t))
		}
	}
	if kind == action.KindWasm {
		if err := e.rt.Validate(ctx, c.Module); err != nil {
			return fmt.Errorf("%w: %w", action.ErrInvalidCode, err)
		}
		return nil
	}
	return e.checkJS(ctx, c, triggers)
}

// Test implements action.Runner: it loads the code under a throwaway key,
// runs it once for trigger on event (with c.Secrets as event.secrets)
// under the default deadline, and unloads it.
func (e *Executor) Test(ctx context.Context, c action.Code, t abi.Trigger, event []byte) (action.TestResult, error) {
	if !t.Valid() {
		return action.TestResult{}, fmt.Errorf("executor: unknown trigger %d", int32(t))
	}
	ev, err := withSecrets(event, c.Secrets)
	if err != nil {
		return action.TestResult{}, err
	}
	select {
	case e.tests <- struct{}{}:
		defer func() { <-e.tests }()
	case <-ctx.Done():
		return action.TestResult{}, ctx.Err()
	}
	var nonce [12]byte
	rand.Read(nonce[:])
	key := "test/" + hex.EncodeToString(nonce[:])
	lk := &link{key: key}
	v := versionRec{Runtime: c.Runtime, Source: c.Source, Module: c.Module, Secrets: c.Secrets}
	if err := e.load(ctx, lk, v); err != nil {
		if errors.Is(err, sandbox.ErrInvalidModule) || errors.Is(err, action.ErrUnknownRuntime) {
			return action.TestResult{}, fmt.Errorf("%w: %w", action.ErrInvalidCode, err)
		}
		return action.TestResult{}, err
	}
	defer e.unload(lk)
	out, err := lk.ver.Invoke(ctx, sandbox.Call{Trigger: t, Event: ev, Timeout: e.deadline(0)})
	res := action.TestResult{Result: out.Result, Logs: out.Logs, LogsTruncated: out.LogsTruncated}
	return res, err
}

// unload drops a link's version from the runtime.
func (e *Executor) unload(lk *link) { e.rt.Unload(lk.key) }

// withSecrets returns the event object with "secrets" set to secrets.
func withSecrets(event []byte, secrets map[string]string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if len(event) == 0 {
		obj = map[string]json.RawMessage{}
	} else if err := json.Unmarshal(event, &obj); err != nil || obj == nil {
		return nil, ErrInvalidEvent
	}
	if secrets == nil {
		secrets = map[string]string{}
	}
	s, err := json.Marshal(secrets)
	if err != nil {
		return nil, fmt.Errorf("executor: encoding secrets: %w", err)
	}
	obj["secrets"] = s
	return json.Marshal(obj)
}
