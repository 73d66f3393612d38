//go:build !unix

package main

// lockDataDir has no portable exclusive lock here; Pebble's own lock on
// the state directory still refuses a second process, with its own
// message and without the holder's PID.
func lockDataDir(dir string) (unlock func(), err error) { return func() {}, nil }
