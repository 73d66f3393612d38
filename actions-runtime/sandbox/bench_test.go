package sandbox

import (
	"testing"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/tetratelabs/wazero"
)

var benchEvent = []byte(`{"mode":"claim","secrets":{"TIER":"gold"},"client":{"client_id":"abc","name":"m2m"},"resource_server":{"identifier":"https://api.example.com"},"accessToken":{"scope":["read:x"],"customClaims":{}}}`)

func benchInvoke(b *testing.B, v *Version) {
	b.Helper()
	call := Call{Trigger: abi.CredentialsExchange, Event: benchEvent}
	if _, err := v.Invoke(ctx, call); err != nil { // warm the pool
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Invoke(ctx, call); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWATWarm: the minimal module on a pooled instance.
func BenchmarkWATWarm(b *testing.B) {
	benchInvoke(b, load(b, newRuntime(b, Config{}), "bench", wat(b, "minimal")))
}

// BenchmarkGoWarm: the Go guest on a pooled instance.
func BenchmarkGoWarm(b *testing.B) {
	benchInvoke(b, load(b, newRuntime(b, Config{Timeout: 2e9}), "bench", goGuest(b)))
}

// BenchmarkGoColdInstance: the Go guest, compiled once, a fresh instance
// (instantiation and _initialize) for every call.
func BenchmarkGoColdInstance(b *testing.B) {
	benchInvoke(b, load(b, newRuntime(b, Config{MaxIdlePerVersion: -1, Timeout: 2e9}), "bench", goGuest(b)))
}

// BenchmarkGoCompile: compiling the Go guest with no cache, what a node
// pays once per deployed version.
func BenchmarkGoCompile(b *testing.B) {
	wasm := goGuest(b)
	for b.Loop() {
		cache := wazero.NewCompilationCache()
		r, err := New(ctx, Config{Cache: cache})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Load(ctx, "bench", wasm); err != nil {
			b.Fatal(err)
		}
		_ = r.Close(ctx)
		_ = cache.Close(ctx)
	}
}

// BenchmarkSDKWarm: the SDK guest on a pooled instance.
func BenchmarkSDKWarm(b *testing.B) {
	benchInvoke(b, load(b, newRuntime(b, Config{Timeout: 2e9}), "bench", sdkGuest(b)))
}
