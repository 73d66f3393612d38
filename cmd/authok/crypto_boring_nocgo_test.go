//go:build goexperiment.boringcrypto && !(cgo && linux && (amd64 || arm64))

package main

// boringExpected: without cgo, or off linux/amd64 and arm64, a
// boringcrypto build falls back to Go.
const boringExpected = false
