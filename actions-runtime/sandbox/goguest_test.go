package sandbox

import (
	"encoding/json"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
)

var (
	goRuntimeOnce sync.Once
	goRuntime     *Runtime
	goVersion     *Version
)

// goGuestVersion loads the Go guest once for all the Go tests (compiling
// a Go module costs seconds) in a runtime with a 64 MiB ceiling.
func goGuestVersion(t *testing.T) (*Runtime, *Version) {
	t.Helper()
	wasm := goGuest(t)
	goRuntimeOnce.Do(func() {
		// InitTimeout: eight Go instances starting at once under -race on a
		// busy 2-core machine take longer than the default 2 s.
		r, err := New(ctx, Config{Cache: sharedCache, MemoryLimitBytes: 64 << 20, Timeout: 2 * time.Second, InitTimeout: time.Minute})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		goRuntime = r
		if goVersion, err = r.Load(ctx, "tenant/go-guest/v1", wasm); err != nil {
			t.Fatalf("Load: %v", err)
		}
	})
	if goVersion == nil {
		t.Fatal("the Go guest did not load")
	}
	return goRuntime, goVersion
}

func goCall(mode string) Call {
	return Call{Trigger: abi.CredentialsExchange, Event: []byte(`{"mode":"` + mode + `","secrets":{"TIER":"gold"}}`)}
}

func TestGoGuestCommands(t *testing.T) {
	_, v := goGuestVersion(t)
	out, err := v.Invoke(ctx, goCall("claim"))
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	if got := string(claims(t, out)["https://example.com/tier"]); got != `"gold"` {
		t.Errorf("tier = %s, want the secret \"gold\"", got)
	}
	if len(out.Logs) != 1 || out.Logs[0] != (Log{Stream: "stdout", Text: "setting the tier for trigger 2\n"}) {
		t.Errorf("logs = %#v", out.Logs)
	}
	out, err = v.Invoke(ctx, goCall("deny"))
	if err != nil {
		t.Fatalf("deny: %v", err)
	}
	if len(out.Result.Commands) != 1 || out.Result.Commands[0] != (abi.AccessDenied{Reason: "not today"}) {
		t.Errorf("deny commands = %#v", out.Result.Commands)
	}
	out, err = v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange, Event: []byte(`{`)})
	if err != nil || len(out.Result.Errors) != 1 || out.Result.Errors[0].Name != "SyntaxError" {
		t.Errorf("a module error: %#v, %v", out.Result.Errors, err)
	}
}

func TestGoGuestHostile(t *testing.T) {
	r, v := goGuestVersion(t)
	tests := []struct {
		mode   string
		want   error
		detail string
	}{
		{"loop", ErrTimeout, ""},
		{"bomb", ErrOutOfMemory, "ceiling"},
		{"panic", ErrTrap, "unreachable"},
		{"sub", abi.ErrRestrictedClaim, `"sub"`},
		{"huge", ErrInvalidOutput, "the limit is 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			base := runtime.NumGoroutine()
			call := goCall(tt.mode)
			// Only the endless loop runs into the deadline; the others get
			// room for a slow machine (filling 64 MiB takes a while).
			call.Timeout = 5 * time.Second
			if tt.want == ErrTimeout {
				call.Timeout = 100 * time.Millisecond
			}
			out, err := v.Invoke(ctx, call)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("Invoke = %v, want %v saying %q", err, tt.want, tt.detail)
			}
			if tt.mode == "panic" && (len(out.Logs) == 0 || !strings.Contains(out.Logs[0].Text, "panic: boom")) {
				t.Errorf("the panic is not in the logs: %#v", out.Logs)
			}
			// The guest stopped: no goroutine is left running it.
			waitGoroutines(t, base)
			if _, err := v.Invoke(ctx, goCall("claim")); err != nil {
				t.Errorf("the next invocation fails: %v", err)
			}
		})
	}
	if s := r.Stats(); s.IdleInstances > 4 {
		t.Errorf("%d idle instances", s.IdleInstances)
	}
}

func TestGoGuestLogsBounded(t *testing.T) {
	_, v := goGuestVersion(t)
	out, err := v.Invoke(ctx, goCall("logs"))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, l := range out.Logs {
		total += len(l.Text)
	}
	if !out.LogsTruncated || total > abi.MaxLogBytes {
		t.Errorf("logs: %d bytes, truncated %v", total, out.LogsTruncated)
	}
}

// TestGoGuestFindsNothing: files, directories, the environment and the
// arguments are empty; the clock is the invocation's time; random numbers
// are the host's crypto random.
func TestGoGuestFindsNothing(t *testing.T) {
	_, v := goGuestVersion(t)
	probe := func() map[string]json.RawMessage {
		out, err := v.Invoke(ctx, goCall("probe"))
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		return claims(t, out)
	}
	before := time.Now().Unix()
	p := probe()
	after := time.Now().Unix()
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(p[k], &s)
		return s
	}
	if e := str("file_error"); e == "<nil>" || e == "" {
		t.Errorf("reading /etc/passwd: %q, want an error", e)
	}
	if string(p["dir_entries"]) != "0" || str("dir_error") == "<nil>" {
		t.Errorf("listing /: %s entries, error %q", p["dir_entries"], str("dir_error"))
	}
	if env := string(p["env"]); env != "[]" && env != "null" {
		t.Errorf("environment = %s, want empty", env)
	}
	if args := string(p["args"]); args != "[]" && args != "null" {
		t.Errorf("args = %s, want empty", args)
	}
	now, _ := strconv.ParseInt(string(p["now"]), 10, 64)
	if now < before || now > after {
		t.Errorf("guest time %d is not the invocation's time (%d..%d)", now, before, after)
	}
	if r1, r2 := str("random"), func() string { var s string; _ = json.Unmarshal(probe()["random"], &s); return s }(); r1 == r2 || len(r1) != 32 {
		t.Errorf("random %q then %q: want two different 16-byte values", r1, r2)
	}
}

func TestGoGuestInstanceStatePersistsWithinVersion(t *testing.T) {
	r := newRuntime(t, Config{MaxIdlePerVersion: 1, Timeout: 2 * time.Second})
	v := load(t, r, "counter", goGuest(t))
	for want := 1; want <= 3; want++ {
		out, err := v.Invoke(ctx, goCall("count"))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(claims(t, out)["calls"]); got != strconv.Itoa(want) {
			t.Errorf("call %d: the pooled instance counted %s", want, got)
		}
	}
	// A failure discards the instance: the next one starts afresh.
	if _, err := v.Invoke(ctx, goCall("panic")); !errors.Is(err, ErrTrap) {
		t.Fatalf("panic = %v", err)
	}
	out, err := v.Invoke(ctx, goCall("count"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(claims(t, out)["calls"]); got != "1" {
		t.Errorf("after a crash the count is %s, want 1 (a new instance)", got)
	}
}

func TestGoGuestConcurrent(t *testing.T) {
	r, v := goGuestVersion(t)
	invokeConcurrently(t, v, 8, 20, goCall("claim"), func(out Output) error {
		if string(claims(t, out)["https://example.com/tier"]) != `"gold"` {
			return errors.New("wrong claim")
		}
		return nil
	})
	if s := r.Stats(); s.IdleInstances > 4 {
		t.Errorf("%d idle instances, the bound is 4", s.IdleInstances)
	}
}
