// Package benchcpu reports a benchmark's process CPU time per iteration,
// as the metric cpu-ns/op. On a shared machine wall time per op also counts
// the time other processes held the cores; CPU time does not, so two builds
// compare fairly. Benchmarks only: it takes a *testing.B.
package benchcpu
