//go:build unix

package benchcpu

import (
	"crypto/sha256"
	"testing"
)

// TestMeasureReportsCPU runs a benchmark that burns CPU and checks that
// Measure reported a positive cpu-ns/op for it.
func TestMeasureReportsCPU(t *testing.T) {
	var sink [32]byte
	res := testing.Benchmark(func(b *testing.B) {
		done := Measure(b)
		for b.Loop() {
			for range 1000 {
				sink = sha256.Sum256(sink[:])
			}
		}
		done()
	})
	got, ok := res.Extra["cpu-ns/op"]
	if !ok {
		t.Fatalf("no cpu-ns/op metric in %v", res.Extra)
	}
	if got <= 0 {
		t.Fatalf("cpu-ns/op = %v, want > 0 for a benchmark that burns CPU", got)
	}
}
