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

	"github.com/authok-edge/authok/actions-runtime/sandbox/sandboxtest"
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
	dir := filepath.Join(sandboxtest.UserCacheDir(), "authok-jsengine", "wazero")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("compilation cache dir: %v", err)
	}
	return dir
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
	return sandboxtest.BuildWasip1Cached("authok-jsengine", "engine-"+hex.EncodeToString(h.Sum(nil))[:24]+".wasm",
		root, "./"+guestPkg, BuildFlags...)
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
