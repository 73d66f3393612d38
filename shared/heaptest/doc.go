// Package heaptest measures the live heap for tests that bound how much
// memory untrusted input can make a process keep. Tests only.
package heaptest
