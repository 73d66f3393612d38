// Package examples holds example Actions, one per trigger of API.md D.1,
// in two languages: Go with actions-runtime/sdk (go/<trigger>, each its
// own main package built with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared)
// and hand-written WebAssembly text (wat/<trigger>.wat, built with wabt's
// wat2wasm), plus wat/minimal.wat, the benchmarks' baseline. The package's
// tests build every example, validate it as an upload would, run it in
// the sandbox on a realistic event and check the exact commands and logs.
// README.md says how to build each by hand.
package examples
