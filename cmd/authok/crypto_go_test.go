//go:build !goexperiment.boringcrypto

package main

import (
	"crypto/fips140"
	"testing"
)

func TestCryptoBackendPureGo(t *testing.T) {
	want := "Go"
	if fips140.Enabled() {
		want = "Go (FIPS 140-3 mode, module " + fips140.Version() + ")"
	}
	if got := cryptoBackend(); got != want {
		t.Fatalf("cryptoBackend() = %q, want %q", got, want)
	}
}
