//go:build !wasip1

package sdk

import "os"

// Log writes one line to standard error: outside the sandbox (a unit test
// of a handler on the host) there are no invocation logs.
func Log(line string) {
	if line == "" {
		return
	}
	os.Stderr.WriteString(line + "\n")
}
