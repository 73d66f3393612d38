package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
)

var ctx = context.Background()

func load(t testing.TB, r *Runtime, key string, wasm []byte) *Version {
	t.Helper()
	v, err := r.Load(ctx, key, wasm)
	if err != nil {
		t.Fatalf("Load %s: %v", key, err)
	}
	return v
}

func claims(t testing.TB, out Output) map[string]json.RawMessage {
	t.Helper()
	m := map[string]json.RawMessage{}
	for _, c := range out.Result.Commands {
		sc, ok := c.(abi.SetCustomClaim)
		if !ok {
			t.Fatalf("unexpected command %#v", c)
		}
		m[sc.Name] = sc.Value
	}
	return m
}

func TestMinimalWATModule(t *testing.T) {
	r := newRuntime(t, Config{})
	v := load(t, r, "t1/a1/v1", wat(t, "minimal"))
	for i := range 3 {
		out, err := v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange, Event: []byte(`{"tenant":{"id":"t1"}}`)})
		if err != nil {
			t.Fatalf("Invoke %d: %v", i, err)
		}
		if got := string(claims(t, out)["https://example.com/tier"]); got != `"gold"` {
			t.Errorf("tier = %s, want \"gold\"", got)
		}
		if len(out.Logs) != 1 || out.Logs[0] != (Log{Stream: "log", Text: "hello from wat"}) {
			t.Errorf("logs = %#v", out.Logs)
		}
	}
	if s := r.Stats(); s.IdleInstances != 1 || s.Versions != 1 || s.Compiled != 1 {
		t.Errorf("Stats = %+v, want one version, one compiled module, one warm instance", s)
	}
}

func TestHostileWATModules(t *testing.T) {
	tests := []struct {
		module string
		event  string
		want   error
		detail string
	}{
		{"loop", `{}`, ErrTimeout, ""},
		{"bomb", `{}`, ErrOutOfMemory, "ceiling"},
		{"hugeout", `{}`, ErrInvalidOutput, "1048576 bytes"},
		{"sub", `{}`, abi.ErrRestrictedClaim, `"sub" is set by the platform`},
		{"badalloc", `{"x":"` + strings.Repeat("a", 64) + `"}`, ErrDenied, "outside the module's memory"},
		{"badresult", `{}`, ErrDenied, "outside the module's memory"},
		{"badlog", `{}`, ErrDenied, "authok.log(65500, 100)"},
		{"exit", `{}`, ErrTrap, "exited with code 3"},
		{"echo", `not json`, ErrInvalidOutput, "invalid character"},
		{"echo", `{"commands":[{"type":"SetCustomClaim","data":{"target":"accessToken","name":"aud","value":"x"}}]}`, ErrInvalidOutput, `"aud"`},
		{"minimal", `"` + strings.Repeat("e", 65000) + `"`, ErrDenied, "returned 0"},
	}
	r := newRuntime(t, Config{MemoryLimitBytes: 8 << 20, Timeout: 5 * time.Second})
	healthy := load(t, r, "healthy", wat(t, "minimal"))
	for _, tt := range tests {
		t.Run(tt.module, func(t *testing.T) {
			v := load(t, r, "hostile/"+tt.module, wat(t, tt.module))
			// Only the endless loop runs into the deadline; the others get
			// room for a slow machine under the race detector.
			timeout := 5 * time.Second
			if tt.want == ErrTimeout {
				timeout = 100 * time.Millisecond
			}
			_, err := v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange, Event: []byte(tt.event), Timeout: timeout})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Invoke error = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not say %q", err, tt.detail)
			}
			v.mu.Lock()
			idle := len(v.idle)
			v.mu.Unlock()
			if idle != 0 {
				t.Errorf("a failed instance went back to the pool (%d idle)", idle)
			}
			if _, err := healthy.Invoke(ctx, Call{Trigger: abi.CredentialsExchange, Event: []byte(`{}`)}); err != nil {
				t.Errorf("a healthy version fails after the hostile one: %v", err)
			}
		})
	}
}

func TestLogsAreBounded(t *testing.T) {
	r := newRuntime(t, Config{})
	v := load(t, r, "logs", wat(t, "hugelog"))
	out, err := v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange, Event: []byte(`{}`)})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	total := 0
	for _, l := range out.Logs {
		total += len(l.Text)
	}
	if !out.LogsTruncated || total != abi.MaxLogBytes {
		t.Errorf("logs: %d bytes, truncated %v; want %d bytes, truncated", total, out.LogsTruncated, abi.MaxLogBytes)
	}
}

func TestValidateRefuses(t *testing.T) {
	tests := []struct {
		name string
		wasm func(t *testing.T) []byte
		want []string
	}{
		{"socket import", func(t *testing.T) []byte { return wat(t, "sock") },
			[]string{"import wasi_snapshot_preview1.sock_accept is not granted"}},
		{"foreign module and global", func(t *testing.T) []byte { return wat(t, "envimport") },
			[]string{"import env.g is a global"}},
		{"unknown host function and wrong signature", func(t *testing.T) []byte { return wat(t, "hostfn") },
			[]string{"import authok.http_get does not exist", "import authok.log must be (i32, i32) -> ()"}},
		{"missing and wrong exports, command module", func(t *testing.T) []byte { return wat(t, "noexports") },
			[]string{`missing export "authok_abi_v1"`, `export "authok_alloc" must be (i32) -> (i32)`,
				`missing export "authok_on_trigger"`, `export "_start"`}},
		{"memory past the ceiling", func(t *testing.T) []byte { return wat(t, "bigmemory") },
			[]string{"memory starts at 2048 pages"}},
		{"not wasm", func(t *testing.T) []byte { return []byte("#!/bin/sh\necho hi\n") }, []string{"bad magic"}},
		{"truncated", func(t *testing.T) []byte { w := wat(t, "minimal"); return w[:len(w)/2] }, []string{"invalid action module"}},
		{"too large", func(t *testing.T) []byte { return make([]byte, 2<<20) }, []string{"the limit is 1048576"}},
	}
	r := newRuntime(t, Config{MemoryLimitBytes: 16 << 20, MaxModuleBytes: 1 << 20})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Validate(ctx, tt.wasm(t))
			if !errors.Is(err, ErrInvalidModule) {
				t.Fatalf("Validate = %v, want ErrInvalidModule", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if _, err := r.Load(ctx, "refused", tt.wasm(t)); !errors.Is(err, ErrInvalidModule) {
				t.Errorf("Load = %v, want ErrInvalidModule", err)
			}
		})
	}
	if s := r.Stats(); s.Compiled != 0 || s.Versions != 0 {
		t.Errorf("refused modules left %+v", s)
	}
}

func TestWhatPersists(t *testing.T) {
	r := newRuntime(t, Config{MaxIdlePerVersion: 1})
	echo := wat(t, "echo")
	a := load(t, r, "tenant-a/echo/v1", echo)
	b := load(t, r, "tenant-b/echo/v1", echo)
	calls := func(v *Version) int {
		v.mu.Lock()
		defer v.mu.Unlock()
		if len(v.idle) != 1 {
			t.Fatalf("%s has %d idle instances, want 1", v.Key(), len(v.idle))
		}
		return int(int32(v.idle[0].mod.ExportedGlobal("calls").Get()))
	}
	for range 3 {
		if _, err := a.Invoke(ctx, Call{Trigger: abi.CredentialsExchange, Event: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Invoke(ctx, Call{Trigger: abi.CredentialsExchange, Event: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if got := calls(a); got != 3 {
		t.Errorf("version a's instance counted %d calls, want 3 (its globals persist)", got)
	}
	if got := calls(b); got != 1 {
		t.Errorf("version b's instance counted %d calls, want 1 (same module, another key: nothing shared)", got)
	}
	if s := r.Stats(); s.Compiled != 1 {
		t.Errorf("identical modules compiled %d times, want once", s.Compiled)
	}
}

func TestVersionLRU(t *testing.T) {
	r := newRuntime(t, Config{MaxVersions: 2})
	minimal, echo := wat(t, "minimal"), wat(t, "echo")
	v1 := load(t, r, "k1", minimal)
	load(t, r, "k2", echo)
	if _, err := v1.Invoke(ctx, Call{Trigger: abi.CredentialsExchange}); err != nil {
		t.Fatal(err)
	}
	load(t, r, "k3", echo) // evicts k1, the least recently used
	if _, ok := r.Get("k1"); ok {
		t.Error("k1 is still loaded")
	}
	if _, err := v1.Invoke(ctx, Call{Trigger: abi.CredentialsExchange}); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke on an evicted version = %v, want ErrClosed", err)
	}
	if s := r.Stats(); s.Versions != 2 || s.Compiled != 1 {
		t.Errorf("Stats = %+v, want 2 versions sharing 1 compiled module", s)
	}
	// A redeploy under a key replaces the version.
	old, _ := r.Get("k2")
	if nv := load(t, r, "k2", minimal); nv == old {
		t.Error("Load with other content returned the old version")
	}
	if again := load(t, r, "k3", echo); again == nil {
		t.Error("no version")
	}
	r.Unload("k2")
	r.Unload("k3")
	if s := r.Stats(); s.Versions != 0 || s.Compiled != 0 || s.IdleInstances != 0 {
		t.Errorf("after unloading everything: %+v", s)
	}
}

func TestTimeoutIsCappedAndCancelIsNotATimeout(t *testing.T) {
	r := newRuntime(t, Config{MaxTimeout: 50 * time.Millisecond})
	v := load(t, r, "loop", wat(t, "loop"))
	// An hour asked, the cluster maximum applies: the test ends.
	if _, err := v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange, Timeout: time.Hour}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Invoke = %v, want ErrTimeout", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := v.Invoke(cctx, Call{Trigger: abi.CredentialsExchange})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("Invoke with a canceled context = %v, want context.Canceled", err)
	}
}

func TestConcurrentInvocationsOfOneVersion(t *testing.T) {
	r := newRuntime(t, Config{MaxIdlePerVersion: 3})
	v := load(t, r, "hot", wat(t, "minimal"))
	invokeConcurrently(t, v, 16, 50, Call{Trigger: abi.CredentialsExchange, Event: []byte(`{}`)}, func(out Output) error {
		if len(out.Result.Commands) != 1 {
			return errors.New("wrong result")
		}
		return nil
	})
	if s := r.Stats(); s.IdleInstances > 3 || s.IdleInstances < 1 {
		t.Errorf("idle instances = %d, want 1..3", s.IdleInstances)
	}
}

// invokeConcurrently invokes call on v from workers goroutines, times each,
// and reports every error and every output check rejects.
func invokeConcurrently(t *testing.T, v *Version, workers, times int, call Call, check func(Output) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers*times)
	for range workers {
		wg.Go(func() {
			for range times {
				out, err := v.Invoke(ctx, call)
				if err == nil {
					err = check(out)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// waitGoroutines waits until the goroutine count is back to at most n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}
