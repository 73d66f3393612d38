// Command guest is the JavaScript engine of Actions: goja built for
// wasip1 as an ABI v1 reactor (docs/actions-abi.md) that the sandbox runs
// like any module. authok_init receives the action's source once per
// instance; every authok_on_trigger call runs the trigger's entry point
// on a fresh event and api object in the instance's one VM.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared (make engine).
// On other platforms it builds to a program that does nothing, so that
// go vet and go build ./... cover its portable code.
package main

func main() {}
