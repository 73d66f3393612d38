//go:build !goexperiment.boringcrypto

package main

import "crypto/fips140"

// cryptoBackend names the implementation behind crypto/rsa, crypto/ecdsa,
// crypto/sha256 and crypto/aes in this binary: the pure-Go standard library,
// in FIPS 140-3 mode when GODEBUG=fips140 asks for it.
func cryptoBackend() string {
	if fips140.Enabled() {
		return "Go (FIPS 140-3 mode, module " + fips140.Version() + ")"
	}
	return "Go"
}
