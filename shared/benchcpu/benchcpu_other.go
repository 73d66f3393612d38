//go:build !unix

package benchcpu

import "testing"

// Measure reports nothing where getrusage does not exist.
func Measure(*testing.B) func() { return func() {} }
