//go:build !unix

package token

import "testing"

// measureCPU reports nothing where getrusage does not exist.
func measureCPU(*testing.B) func() { return func() {} }
