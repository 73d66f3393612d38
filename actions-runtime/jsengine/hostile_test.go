package jsengine_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
)

const ce = abi.CredentialsExchange

// TestHostileJS: each hostile action fails with its typed error, the
// instance it ran on is closed (not pooled, not running: Invoke returns
// only once the guest is stopped, and Stats counts no instance beyond the
// warm ones), and the same version serves the next, benign call.
func TestHostileJS(t *testing.T) {
	rt := newRuntime(t, sandbox.Config{MaxTimeout: 10 * time.Second})
	tests := []struct {
		name    string
		body    string // runs when event.hostile is true
		timeout time.Duration
		want    error
		detail  string
	}{
		{"endless loop", `while (true) {}`, 200 * time.Millisecond, sandbox.ErrTimeout, ""},
		{"endless async loop", `for (;;) { await null; }`, 200 * time.Millisecond, sandbox.ErrTimeout, ""},
		{"memory bomb", `const keep = []; const mb = "x".repeat(1 << 20); for (let i = 0; ; i++) keep.push(mb + i);`,
			10 * time.Second, sandbox.ErrOutOfMemory, "ceiling"},
		{"huge claim value", `api.accessToken.setCustomClaim("https://x/big", "x".repeat(100000));`,
			5 * time.Second, sandbox.ErrInvalidOutput, "bytes, the limit is 65536"},
		{"too many commands", `for (let i = 0; i < 101; i++) api.accessToken.setCustomClaim("https://x/" + i, i);`,
			5 * time.Second, sandbox.ErrInvalidOutput, "102 commands, the limit is 100"},
		{"sub", `api.accessToken.setCustomClaim("sub", "admin");`, 5 * time.Second, abi.ErrRestrictedClaim, `"sub" is set by the platform`},
		{"aud in another case", `api.accessToken.setCustomClaim("AUD", "https://other-api");`, 5 * time.Second, abi.ErrRestrictedClaim, `"AUD"`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fmt.Sprintf(`exports.onExecuteCredentialsExchange = async (event, api) => {
  if (event.hostile) { %s }
  api.accessToken.setCustomClaim("https://x/ok", true);
};`, tt.body)
			v := loadJS(t, rt, fmt.Sprintf("t/hostile/%d", i), src, ce)
			invoke(t, v, ce, `{}`) // one warm instance in the pool
			out, err := v.Invoke(ctx, sandbox.Call{Trigger: ce, Event: []byte(`{"hostile":true}`), Timeout: tt.timeout})
			if !errors.Is(err, tt.want) || !errors.Is(err, errTypeOf(tt.want)) {
				t.Fatalf("Invoke = %v (result %+v), want %v", err, out.Result, tt.want)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q lacks %q", err, tt.detail)
			}
			if s := rt.Stats(); s.LiveInstances != int64(s.IdleInstances) {
				t.Errorf("Stats %+v: an instance besides the warm ones is alive after the failure", s)
			}
			if got := claim(t, invoke(t, v, ce, `{}`), "https://x/ok"); got != "true" {
				t.Errorf("the next call: claim %s", got)
			}
		})
	}
}

// errTypeOf maps a decoder error to the sandbox's typed error it comes in.
func errTypeOf(err error) error {
	if errors.Is(err, abi.ErrRestrictedClaim) {
		return sandbox.ErrInvalidOutput
	}
	return err
}

func TestHugeLogsAreBounded(t *testing.T) {
	rt := newRuntime(t, sandbox.Config{})
	v := loadJS(t, rt, "t/logs/v1", `exports.onExecuteCredentialsExchange = async (event, api) => {
  for (let i = 0; i < 20000; i++) console.log("line", i, "x".repeat(100));
  console.error("y".repeat(1 << 20));
  api.accessToken.setCustomClaim("https://x/done", true);
};`, ce)
	out := invoke(t, v, ce, `{}`)
	total := 0
	for _, l := range out.Logs {
		total += len(l.Text)
	}
	if !out.LogsTruncated || total > abi.MaxLogBytes {
		t.Errorf("logs: %d bytes, truncated %v; want at most %d, truncated", total, out.LogsTruncated, abi.MaxLogBytes)
	}
	if got := claim(t, out, "https://x/done"); got != "true" {
		t.Errorf("claim %s", got)
	}
}

// TestNothingToReach: goja has no file, process, network or module
// system; require (reached through eval, past Check) finds nothing; the
// clock is the invocation's start.
func TestNothingToReach(t *testing.T) {
	rt := newRuntime(t, sandbox.Config{})
	v := loadJS(t, rt, "t/reach/v1", `exports.onExecuteCredentialsExchange = async (event, api) => {
  const names = ["process", "fetch", "XMLHttpRequest", "WebSocket", "Deno", "Bun", "setTimeout", "setInterval",
    "Buffer", "global", "__non_webpack_require__", "importScripts", "navigator", "os", "fs"];
  const kinds = {};
  for (const n of names) kinds[n] = typeof globalThis[n];
  api.accessToken.setCustomClaim("https://x/kinds", kinds);
  let req;
  try { eval("require")("fs"); req = "loaded"; } catch (e) { req = e.message; }
  api.accessToken.setCustomClaim("https://x/require", req);
  let imp;
  try { await eval("import('fs')"); imp = "loaded"; } catch (e) { imp = String(e); }
  api.accessToken.setCustomClaim("https://x/import", imp);
  api.accessToken.setCustomClaim("https://x/now", Date.now() === Date.now());
};`, ce)
	out := invoke(t, v, ce, `{}`)
	if len(out.Result.Errors) > 0 {
		t.Fatalf("errors %+v", out.Result.Errors)
	}
	kinds := claim(t, out, "https://x/kinds")
	if strings.Contains(kinds, `"object"`) || strings.Contains(kinds, `"function"`) {
		t.Errorf("something reachable: %s", kinds)
	}
	if got := claim(t, out, "https://x/require"); !strings.Contains(got, "npm dependencies are not supported") {
		t.Errorf("require through eval: %s", got)
	}
	if got := claim(t, out, "https://x/import"); strings.Contains(got, "loaded") {
		t.Errorf("dynamic import: %s", got)
	}
	if got := claim(t, out, "https://x/now"); got != "true" {
		t.Errorf("the clock moves within an invocation: %s", got)
	}
}

// TestConcurrentInvocationsOfOneVersion: many goroutines on one version;
// each call sees its own event and its own api (no cross-talk between
// instances or between calls on one instance).
func TestConcurrentInvocationsOfOneVersion(t *testing.T) {
	rt := newRuntime(t, sandbox.Config{MaxIdlePerVersion: 3})
	v := loadJS(t, rt, "t/hot/v1", `exports.onExecuteCredentialsExchange = async (event, api) => {
  await null;
  api.accessToken.setCustomClaim("https://x/echo", event.n);
  console.log("n", event.n);
};`, ce)
	const workers, times = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*times)
	for w := range workers {
		wg.Go(func() {
			for i := range times {
				n := w*1000 + i
				out, err := v.Invoke(ctx, sandbox.Call{Trigger: ce, Event: fmt.Appendf(nil, `{"n":%d}`, n), Timeout: 10 * time.Second})
				switch {
				case err != nil:
					errs <- err
				case len(out.Result.Commands) != 1 || string(out.Result.Commands[0].(abi.SetCustomClaim).Value) != fmt.Sprint(n):
					errs <- fmt.Errorf("call %d got %+v", n, out.Result)
				case len(out.Logs) != 1 || out.Logs[0].Text != fmt.Sprintf("n %d\n", n):
					errs <- fmt.Errorf("call %d logged %v", n, out.Logs)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := rt.Stats(); s.IdleInstances < 1 || s.IdleInstances > 3 || s.LiveInstances != int64(s.IdleInstances) {
		t.Errorf("Stats %+v, want 1..3 warm instances and nothing else alive", s)
	}
}

// TestGlobalsPerVersion: a version's module scope and globals persist
// between its calls on a pooled instance (documented, never to be relied
// on); another version, of another tenant, never sees them.
func TestGlobalsPerVersion(t *testing.T) {
	rt := newRuntime(t, sandbox.Config{MaxIdlePerVersion: 1})
	src := `let calls = 0;
exports.onExecuteCredentialsExchange = async (event, api) => {
  calls++;
  const seen = typeof globalThis.tenantMark === "string" ? globalThis.tenantMark : "none";
  globalThis.tenantMark = event.tenant.id;
  api.accessToken.setCustomClaim("https://x/calls", calls);
  api.accessToken.setCustomClaim("https://x/seen", seen);
};`
	a := loadJS(t, rt, "tenant-a/act/v1", src, ce)
	b := loadJS(t, rt, "tenant-b/act/v1", src, ce)
	for i := 1; i <= 3; i++ {
		out := invoke(t, a, ce, `{"tenant":{"id":"tenant-a"}}`)
		if got := claim(t, out, "https://x/calls"); got != fmt.Sprint(i) {
			t.Errorf("tenant a call %d: calls = %s (module scope persists on the pooled instance)", i, got)
		}
	}
	out := invoke(t, b, ce, `{"tenant":{"id":"tenant-b"}}`)
	if got := claim(t, out, "https://x/calls"); got != "1" {
		t.Errorf("tenant b: calls = %s, want 1", got)
	}
	if got := claim(t, out, "https://x/seen"); got != `"none"` {
		t.Errorf("tenant b saw tenant a's global: %s", got)
	}
	out = invoke(t, a, ce, `{"tenant":{"id":"tenant-a"}}`)
	if got := claim(t, out, "https://x/seen"); got != `"tenant-a"` {
		t.Errorf("tenant a saw %s, want its own mark", got)
	}
}
