package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestVersionPrintsCrypto: `authok version` says which crypto the binary
// uses, in-process and in a binary built by `go build` with the same
// environment (GOEXPERIMENT included) as this test.
func TestVersionPrintsCrypto(t *testing.T) {
	want := "authok dev\ncrypto: " + cryptoBackend() + "\n"
	code, out, errOut := runCapture(t, nil, "version")
	if code != exitOK || out != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want stdout %q", code, out, errOut, want)
	}
	if testing.Short() {
		return
	}
	got, err := exec.Command(authokBinary(t), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("authok version: %v\n%s", err, got)
	}
	if !strings.HasSuffix(string(got), "\ncrypto: "+cryptoBackend()+"\n") {
		t.Fatalf("built binary prints %q, want the crypto line %q", got, "crypto: "+cryptoBackend())
	}
}
