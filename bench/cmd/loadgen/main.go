// Command loadgen drives an authok edge with load and reports throughput,
// latency percentiles and CPU per request. See bench/README.md and
// `go run ./bench/cmd/loadgen --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/authok-edge/authok/bench/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := loadgen.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
