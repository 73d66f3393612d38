//go:build goexperiment.boringcrypto && cgo && linux && (amd64 || arm64)

package main

// boringExpected: here a boringcrypto build must run BoringCrypto.
const boringExpected = true
