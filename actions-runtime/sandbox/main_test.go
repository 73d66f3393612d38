package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/authok-edge/authok/actions-runtime/sandbox/sandboxtest"
)

// sharedCache lets every runtime in the tests reuse compiled code, so the
// Go module is compiled once per test binary run.
var sharedCache = wazero.NewCompilationCache()

func TestMain(m *testing.M) {
	code := m.Run()
	_ = sharedCache.Close(context.Background())
	os.Exit(code)
}

// newRuntime builds a runtime on the shared cache and closes it after t.
func newRuntime(t testing.TB, cfg Config) *Runtime {
	t.Helper()
	cfg.Cache = sharedCache
	r, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

// guestBuild is one Go guest, built at most once per test binary run.
type guestBuild struct {
	once sync.Once
	wasm []byte
	err  error
}

// get builds the guest in dir (with the extra source dirs deps) on first
// use; name says which guest a build failure is of.
func (g *guestBuild) get(t testing.TB, name, dir string, deps ...string) []byte {
	t.Helper()
	g.once.Do(func() { g.wasm, g.err = buildGoGuest(dir, deps...) })
	if g.err != nil {
		t.Fatalf("building the %s guest: %v", name, g.err)
	}
	return g.wasm
}

var goGuestBuild, sdkGuestBuild guestBuild

// goGuest builds testdata/goguest for wasip1 once per test binary run,
// caching the module under the user cache directory by the hash of its
// sources and the Go version, so repeated runs do not rebuild it.
func goGuest(t testing.TB) []byte {
	t.Helper()
	return goGuestBuild.get(t, "Go", "testdata/goguest")
}

// sdkGuest builds testdata/sdkguest, written with actions-runtime/sdk.
func sdkGuest(t testing.TB) []byte {
	t.Helper()
	return sdkGuestBuild.get(t, "SDK", "testdata/sdkguest", "../sdk")
}

// buildGoGuest builds the program in dir, cached by source hash
// (sandboxtest.BuildGo).
func buildGoGuest(dir string, deps ...string) ([]byte, error) {
	return sandboxtest.BuildGo(dir, deps...)
}

// wat compiles testdata/wat/<name>.wat with wabt's wat2wasm. Without
// wat2wasm the test is skipped, except under CI=true, where it fails.
func wat(t testing.TB, name string) []byte {
	t.Helper()
	return sandboxtest.WAT(t, filepath.Join("testdata", "wat", name+".wat"))
}
