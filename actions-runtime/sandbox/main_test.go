package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
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

// buildGoGuest builds the program in dir; the cache key covers the Go
// sources of dir and of the extra dirs it depends on.
func buildGoGuest(dir string, deps ...string) ([]byte, error) {
	var files []string
	for _, d := range append([]string{dir}, deps...) {
		fs, err := filepath.Glob(filepath.Join(d, "*.go"))
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	sort.Strings(files)
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	cacheDir, err := os.UserCacheDir()
	if err != nil {
		cacheDir = os.TempDir()
	}
	cacheDir = filepath.Join(cacheDir, "authok-actions-testdata")
	out := filepath.Join(cacheDir, filepath.Base(dir)+"-"+hex.EncodeToString(h.Sum(nil))[:24]+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(cacheDir, "build-*.wasm")
	if err != nil {
		return nil, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", tmp.Name(), "./"+dir)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, b)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

// wat compiles testdata/wat/<name>.wat with wabt's wat2wasm. Without
// wat2wasm the test is skipped, except under CI=true, where it fails.
func wat(t testing.TB, name string) []byte {
	t.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("wat2wasm (Debian package wabt) is needed under CI: %v", err)
		}
		t.Skip("wat2wasm not installed (apt-get install wabt)")
	}
	out := filepath.Join(t.TempDir(), name+".wasm")
	if b, err := exec.Command(bin, filepath.Join("testdata", "wat", name+".wat"), "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s", name, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
