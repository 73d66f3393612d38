package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"time"
)

func main() {
	goCmd := flag.String("go", "go", "the go command to run")
	top := flag.Int("top", 15, "how many of the slowest tests to list")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: testsummary [-go go] [-top n] -- [go test flags and packages]")
		flag.PrintDefaults()
	}
	flag.Parse()
	os.Exit(run(*goCmd, *top, flag.Args()))
}

// run runs go test -json args, reports as it goes and returns the exit
// code: go test's own, or 2 when it could not be run.
func run(goCmd string, top int, args []string) int {
	cmd := exec.Command(goCmd, append([]string{"test", "-json"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		return 2
	}
	// An interrupt reaches go test from the terminal too: stay to report
	// what it printed before it stops.
	signal.Ignore(os.Interrupt)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		return 2
	}
	s := newSummary(os.Stdout)
	readErr := s.read(out)
	waitErr := cmd.Wait()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(waitErr, &exit):
		code = exit.ExitCode()
		if code < 0 { // killed by a signal
			code = 2
		}
	case waitErr != nil:
		fmt.Fprintln(os.Stderr, "testsummary:", waitErr)
		code = 2
	case readErr != nil:
		fmt.Fprintln(os.Stderr, "testsummary: reading go test's output:", readErr)
		code = 2
	}
	s.report(top, time.Since(start), code)
	return code
}
