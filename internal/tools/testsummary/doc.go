// Command testsummary runs `go test -json` with the arguments it is given
// and prints what plain `go test` would (each package's ok/FAIL line, and
// the whole output of every failed test, build errors and panics
// included), then the slowest tests and every package's time, so that a
// test suite's growth is visible. It exits with go test's exit code.
//
//	go run ./internal/tools/testsummary [-go go] [-top 15] -- -race -count=1 ./...
//
// `make test` runs it. It is a tool of the repository, not part of authok.
package main
