// Package sandboxtest builds the modules the Actions tests run: Go guests
// for wasip1 (cached by source hash, so a test run rebuilds only what
// changed) and WAT files through wabt's wat2wasm. It is for tests only;
// it does not import the sandbox, so the sandbox's own tests can use it.
package sandboxtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// BuildGo builds the Go program in dir (relative to the working directory)
// with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared and returns the module.
// The result is cached under the user cache directory by the hash of the
// Go version and of the Go sources of dir and of the extra dirs deps it
// depends on (an SDK, say), so repeated runs do not rebuild it.
func BuildGo(dir string, deps ...string) ([]byte, error) {
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
	pkg := "./" + filepath.ToSlash(filepath.Clean(dir))
	return BuildWasip1Cached("authok-actions-testdata", filepath.Base(dir)+"-"+hex.EncodeToString(h.Sum(nil))[:24]+".wasm",
		"", pkg, "-buildmode=c-shared")
}

// UserCacheDir is the user cache directory, or the temp directory when
// there is none.
func UserCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return os.TempDir()
	}
	return d
}

// BuildWasip1Cached returns <user cache>/<cache>/<name> if it exists, else
// builds pkg (run in workDir; "" is the working directory) with
// GOOS=wasip1 GOARCH=wasm and flags into it, atomically (a temp file
// renamed), so concurrent test binaries never read half a module. name
// must change whenever what it is built from does (a content hash).
func BuildWasip1Cached(cache, name, workDir, pkg string, flags ...string) ([]byte, error) {
	cacheDir := filepath.Join(UserCacheDir(), cache)
	out := filepath.Join(cacheDir, name)
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
	args := append(append([]string{"build"}, flags...), "-o", tmp.Name(), pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = workDir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

// WAT compiles the WAT file at path with wabt's wat2wasm. Without wat2wasm
// the test is skipped, except under CI=true, where it fails.
func WAT(t testing.TB, path string) []byte {
	t.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("wat2wasm (Debian package wabt) is needed under CI: %v", err)
		}
		t.Skip("wat2wasm not installed (apt-get install wabt)")
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path)+".wasm")
	if b, err := exec.Command(bin, path, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s", path, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
