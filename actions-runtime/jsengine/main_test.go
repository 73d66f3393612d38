package jsengine_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/jsengine"
	"github.com/authok-edge/authok/actions-runtime/jsengine/jsenginetest"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
	"github.com/tetratelabs/wazero"
)

var ctx = context.Background()

// cache is one wazero compilation cache for the test binary, on disk
// under the user cache directory, so the engine is compiled once per
// machine rather than per test or per run.
var cache wazero.CompilationCache

func TestMain(m *testing.M) {
	code := m.Run()
	if cache != nil {
		_ = cache.Close(ctx)
	}
	os.Exit(code)
}

func engine(t testing.TB) *jsengine.Engine {
	t.Helper()
	return jsengine.New(jsenginetest.Engine(t))
}

// newRuntime builds a sandbox runtime on the shared cache, closed after t.
func newRuntime(t testing.TB, cfg sandbox.Config) *sandbox.Runtime {
	t.Helper()
	if cache == nil {
		c, err := wazero.NewCompilationCacheWithDir(jsenginetest.CompilationCacheDir(t))
		if err != nil {
			t.Fatalf("compilation cache: %v", err)
		}
		cache = c
	}
	cfg.Cache = cache
	// Starting an engine instance takes about 50 ms, but seconds under the
	// race detector on a loaded machine: the tests that are not about the
	// start-up deadline must not trip on it.
	if cfg.InitTimeout == 0 {
		cfg.InitTimeout = time.Minute
	}
	rt, err := sandbox.New(ctx, cfg)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	t.Cleanup(func() { _ = rt.Close(ctx) })
	return rt
}

// loadJS loads source as a JS action version under key.
func loadJS(t testing.TB, rt *sandbox.Runtime, key, source string, triggers ...abi.Trigger) *sandbox.Version {
	t.Helper()
	v, err := engine(t).Load(ctx, rt, key, source, triggers)
	if err != nil {
		t.Fatalf("Load %s: %v", key, err)
	}
	return v
}
