//go:build goexperiment.boringcrypto

package main

import (
	"crypto/boring"
	"runtime"
)

// cryptoBackend names the implementation behind crypto/rsa, crypto/ecdsa,
// crypto/sha256 and crypto/aes in this binary. A GOEXPERIMENT=boringcrypto
// build uses BoringCrypto (cgo) only on linux/amd64 and linux/arm64;
// Ed25519 is always Go's.
func cryptoBackend() string {
	if boring.Enabled() {
		return "BoringCrypto (Ed25519 in Go)"
	}
	return "Go (boringcrypto build without BoringCrypto: it needs cgo on linux/amd64 or linux/arm64, this is " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}
