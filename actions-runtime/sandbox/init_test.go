package sandbox

import (
	"errors"
	"strings"
	"testing"

	"github.com/authok-edge/authok/actions-runtime/abi"
)

func claimResult(value string) []byte {
	return []byte(`{"commands":[{"type":"SetCustomClaim","data":{"target":"accessToken","name":"https://example.com/v","value":"` + value + `"}}]}`)
}

// TestInitPayloadPerVersion: each version's instances get that version's
// payload through authok_init; the same key and payload is the same
// version, another payload a new one.
func TestInitPayloadPerVersion(t *testing.T) {
	r := newRuntime(t, Config{})
	mod := wat(t, "init")
	loadInit := func(key string, opts ...LoadOption) *Version {
		t.Helper()
		v, err := r.Load(ctx, key, mod, opts...)
		if err != nil {
			t.Fatalf("Load %s: %v", key, err)
		}
		return v
	}
	a := loadInit("tenant-a/act/v1", WithInit(claimResult("a")))
	b := loadInit("tenant-b/act/v1", WithInit(claimResult("b")))
	none := loadInit("tenant-c/act/v1")
	for range 2 {
		for v, want := range map[*Version]string{a: `"a"`, b: `"b"`} {
			out, err := v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange})
			if err != nil {
				t.Fatalf("Invoke %s: %v", v.Key(), err)
			}
			if got := string(claims(t, out)["https://example.com/v"]); got != want {
				t.Errorf("%s: claim %s, want %s", v.Key(), got, want)
			}
		}
	}
	out, err := none.Invoke(ctx, Call{Trigger: abi.CredentialsExchange})
	if err != nil || len(out.Result.Commands) != 0 {
		t.Errorf("without a payload: %+v, %v; want no commands", out.Result, err)
	}
	if again := loadInit("tenant-a/act/v1", WithInit(claimResult("a"))); again != a {
		t.Error("the same key, module and payload loaded a new version")
	}
	if other := loadInit("tenant-a/act/v1", WithInit(claimResult("a2"))); other == a {
		t.Error("another payload under the key returned the old version")
	}
	if s := r.Stats(); s.Compiled != 1 {
		t.Errorf("compiled %d times, want once for every payload", s.Compiled)
	}
}

func TestInitRefused(t *testing.T) {
	r := newRuntime(t, Config{})
	mod := wat(t, "init")
	v, err := r.Load(ctx, "bad", mod, WithInit([]byte("!nope")))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	_, err = v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange})
	if !errors.Is(err, ErrInit) || !strings.Contains(err.Error(), "refused: the payload starts with !") {
		t.Errorf("Invoke = %v, want ErrInit with the module's message", err)
	}
	if err := r.Probe(ctx, mod, WithInit([]byte("!nope"))); !errors.Is(err, ErrInit) {
		t.Errorf("Probe of a refused payload = %v, want ErrInit", err)
	}
	if err := r.Probe(ctx, mod, WithInit(claimResult("ok"))); err != nil {
		t.Errorf("Probe of a good payload = %v", err)
	}
	if err := r.Probe(ctx, wat(t, "minimal"), WithInit([]byte("x"))); !errors.Is(err, ErrInvalidModule) || !strings.Contains(err.Error(), abi.InitExport) {
		t.Errorf("an init payload for a module without %s = %v, want ErrInvalidModule naming it", abi.InitExport, err)
	}
	if s := r.Stats(); s.LiveInstances != 0 || s.Versions != 1 {
		t.Errorf("after probes: %+v, want the one loaded version and no live instance", s)
	}
}

// TestLoadOptionsWidenPerVersion: a version's own memory ceiling and WASI
// grants apply to it only; Validate (what an upload runs) keeps the ABI's.
func TestLoadOptionsWidenPerVersion(t *testing.T) {
	r := newRuntime(t, Config{MemoryLimitBytes: 16 << 20})
	big, sock := wat(t, "bigmemory"), wat(t, "sock")
	if _, err := r.Load(ctx, "big", big); !errors.Is(err, ErrInvalidModule) {
		t.Fatalf("Load of 128 MiB under a 16 MiB ceiling = %v, want ErrInvalidModule", err)
	}
	v, err := r.Load(ctx, "big", big, WithMemoryLimit(256<<20))
	if err != nil {
		t.Fatalf("Load with its own 256 MiB ceiling: %v", err)
	}
	if _, err := v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange}); err != nil {
		t.Errorf("Invoke: %v", err)
	}
	if _, err := r.Load(ctx, "sock", sock); !errors.Is(err, ErrInvalidModule) {
		t.Fatalf("Load of a socket import = %v, want ErrInvalidModule", err)
	}
	if _, err := r.Load(ctx, "sock", sock, WithWASIImports("sock_accept")); err != nil {
		t.Errorf("Load with sock_accept granted: %v", err)
	}
	if err := r.Validate(ctx, sock); !errors.Is(err, ErrInvalidModule) {
		t.Errorf("Validate after a granted load = %v, want ErrInvalidModule", err)
	}
}

// TestIdleMemoryBound: past Config.MaxIdleBytes the warm instances of the
// least recently used versions are closed; those versions still run.
func TestIdleMemoryBound(t *testing.T) {
	mod := wat(t, "minimal")
	probe := newRuntime(t, Config{})
	if _, err := load(t, probe, "probe", mod).Invoke(ctx, Call{Trigger: abi.CredentialsExchange}); err != nil {
		t.Fatal(err)
	}
	per := probe.Stats().IdleBytes
	if per <= 0 {
		t.Fatalf("an idle instance counts %d bytes", per)
	}

	r := newRuntime(t, Config{MaxIdleBytes: 2 * per})
	vs := []*Version{load(t, r, "k1", mod), load(t, r, "k2", mod), load(t, r, "k3", mod)}
	for _, v := range vs {
		if _, err := v.Invoke(ctx, Call{Trigger: abi.CredentialsExchange}); err != nil {
			t.Fatal(err)
		}
	}
	s := r.Stats()
	if s.IdleInstances != 2 || s.IdleBytes != 2*per || s.LiveInstances != 2 {
		t.Errorf("Stats = %+v, want 2 idle instances of %d bytes each, nothing else live", s, per)
	}
	vs[0].mu.Lock()
	idle := len(vs[0].idle)
	vs[0].mu.Unlock()
	if idle != 0 {
		t.Errorf("k1, the least recently used version, kept %d idle instances", idle)
	}
	if _, err := vs[0].Invoke(ctx, Call{Trigger: abi.CredentialsExchange}); err != nil {
		t.Errorf("k1 after its instance was dropped: %v", err)
	}
	r.Unload("k1")
	r.Unload("k2")
	r.Unload("k3")
	if s := r.Stats(); s.IdleBytes != 0 || s.LiveInstances != 0 {
		t.Errorf("after unloading: %+v", s)
	}
}

// TestHoldKeepsCompiledCode: a held module stays compiled with no version.
func TestHoldKeepsCompiledCode(t *testing.T) {
	r := newRuntime(t, Config{})
	release, err := r.Hold(ctx, wat(t, "minimal"))
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Compiled != 1 || s.Versions != 0 {
		t.Errorf("held: %+v, want one compiled module", s)
	}
	release()
	release()
	if s := r.Stats(); s.Compiled != 0 {
		t.Errorf("released (twice): %+v, want nothing compiled", s)
	}
}
