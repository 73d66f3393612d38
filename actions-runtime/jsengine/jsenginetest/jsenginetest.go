// Package jsenginetest gives tests the JavaScript engine module without
// make: dist/engine.wasm when `make engine` built it from the current
// sources, else a build cached under the user cache directory by the hash
// of the guest's sources, go.mod, go.sum and the Go version. It also names
// a wazero compilation cache directory shared by test runs, since
// compiling the engine costs seconds of CPU. For tests only.
package jsenginetest

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
	"sync"
	"testing"
	"time"
)

// BuildFlags are the flags `make engine` and Build use.
var BuildFlags = []string{"-buildmode=c-shared", "-trimpath", "-ldflags=-s -w"}

const guestPkg = "actions-runtime/jsengine/guest"

var (
	once sync.Once
	wasm []byte
	err  error
)

// Engine returns the engine module, building it at most once per test
// binary run; it fails the test when the build fails.
func Engine(tb testing.TB) []byte {
	tb.Helper()
	once.Do(func() { wasm, err = Build() })
	if err != nil {
		tb.Fatalf("building the JavaScript engine: %v", err)
	}
	return wasm
}

// CompilationCacheDir is a wazero compilation cache directory under the
// user cache directory, shared by every test run on the machine.
func CompilationCacheDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(userCache(), "authok-jsengine", "wazero")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("compilation cache dir: %v", err)
	}
	return dir
}

func userCache() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return os.TempDir()
	}
	return d
}

// Build returns dist/engine.wasm if it is newer than every source it is
// built from, else the engine built into (or found in) the cache.
func Build() ([]byte, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	inputs, err := filepath.Glob(filepath.Join(root, guestPkg, "*.go"))
	if err != nil {
		return nil, err
	}
	inputs = append(inputs, filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"))
	sort.Strings(inputs)
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), strings.Join(BuildFlags, " "))
	var newest time.Time
	for _, f := range inputs {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if fi, err := os.Stat(f); err == nil && fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	dist := filepath.Join(root, "actions-runtime/jsengine/dist/engine.wasm")
	if fi, err := os.Stat(dist); err == nil && fi.ModTime().After(newest) {
		return os.ReadFile(dist)
	}
	dir := filepath.Join(userCache(), "authok-jsengine")
	out := filepath.Join(dir, "engine-"+hex.EncodeToString(h.Sum(nil))[:24]+".wasm")
	if b, err := os.ReadFile(out); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, "build-*.wasm")
	if err != nil {
		return nil, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", tmp.Name(), "./"+guestPkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the module (go env GOMOD is %q)", gomod)
	}
	return filepath.Dir(gomod), nil
}
