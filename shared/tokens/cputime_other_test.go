//go:build !unix

package tokens

import "testing"

// measureCPU reports nothing where getrusage does not exist.
func measureCPU(*testing.B) func() { return func() {} }
