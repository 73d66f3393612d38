package jsengine_test

import (
	"testing"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/jsengine/jsenginetest"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
	"github.com/authok-edge/authok/shared/benchcpu"
)

// benchSource is the small action of the bench: one claim.
const benchSource = `exports.onExecuteCredentialsExchange = async (event, api) => {
  api.accessToken.setCustomClaim("https://example.com/tier", "gold");
};`

// benchEvent is a credentials-exchange event as the token path passes it.
var benchEvent = []byte(`{"secrets":{"API_KEY":"k-123"},"tenant":{"id":"t-bench"},` +
	`"client":{"client_id":"m2m-client-0001","name":"bench client","metadata":{"tier":"gold"}},` +
	`"resource_server":{"identifier":"https://api.example.com/"},` +
	`"accessToken":{"scope":["read:things","write:things"],"customClaims":{}},` +
	`"request":{"ip":"127.0.0.1","method":"POST","hostname":"auth.example.com","user_agent":"bench/1.0","language":"en"}}`)

func benchInvoke(b *testing.B, cfg sandbox.Config) {
	rt := newRuntime(b, cfg)
	v := loadJS(b, rt, "t/bench/v1", benchSource, abi.CredentialsExchange)
	call := sandbox.Call{Trigger: abi.CredentialsExchange, Event: benchEvent}
	if _, err := v.Invoke(ctx, call); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer benchcpu.Measure(b)()
	for range b.N {
		out, err := v.Invoke(ctx, call)
		if err != nil || len(out.Result.Commands) != 1 {
			b.Fatalf("Invoke: %+v %v", out.Result, err)
		}
	}
	b.StopTimer()
	if s := rt.Stats(); s.IdleInstances > 0 {
		b.ReportMetric(float64(s.IdleBytes)/float64(s.IdleInstances), "idle-bytes/instance")
	}
}

// BenchmarkInvokeWarm: a one-claim onExecuteCredentialsExchange on a
// pooled instance: what a JS action adds to a token request.
func BenchmarkInvokeWarm(b *testing.B) { benchInvoke(b, sandbox.Config{}) }

// BenchmarkInvokeCold: every call instantiates the engine, runs the
// action's top level (authok_init) and then the call: a version's first
// call, or one beyond the pool.
func BenchmarkInvokeCold(b *testing.B) {
	benchInvoke(b, sandbox.Config{MaxIdlePerVersion: -1, Timeout: 5e9, MaxTimeout: 5e9})
}

// BenchmarkEngineCompile: compiling the engine module in a new runtime,
// from nothing and from a warm on-disk compilation cache (a restarted
// node).
func BenchmarkEngineCompile(b *testing.B) {
	wasm := jsenginetest.Engine(b)
	compile := func(b *testing.B, cfg sandbox.Config) {
		rt, err := sandbox.New(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		release, err := rt.Hold(ctx, wasm)
		if err != nil {
			b.Fatal(err)
		}
		release()
		if err := rt.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("no-cache", func(b *testing.B) {
		defer benchcpu.Measure(b)()
		for range b.N {
			compile(b, sandbox.Config{}) // a fresh in-memory cache each time
		}
	})
	b.Run("disk-cache", func(b *testing.B) {
		dir := b.TempDir()
		compile(b, sandbox.Config{CacheDir: dir}) // fills the cache
		b.ResetTimer()
		defer benchcpu.Measure(b)()
		for range b.N {
			compile(b, sandbox.Config{CacheDir: dir})
		}
	})
}
