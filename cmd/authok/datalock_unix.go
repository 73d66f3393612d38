//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile is the file in the data dir that one authok process holds
// locked while it runs; it contains that process's PID.
const lockFile = "authok.lock"

// lockDataDir takes an exclusive lock on dir for this process, so a second
// process on the same data fails with a message naming the holder instead
// of Pebble's "resource temporarily unavailable". The lock is an flock: the
// kernel drops it when the process ends, however it ends, so a stale file
// never blocks a restart. unlock releases it.
func lockDataDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: lock: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, usageError{dataDirInUse(dir, path)}
		}
		return nil, fmt.Errorf("data dir %s: lock %s: %w", dir, path, err)
	}
	// Ours now: record who holds it for the next one to name.
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data dir %s: write %s: %w", dir, path, err)
	}
	return func() { f.Close() }, nil
}

// dataDirInUse says who holds the lock, naming its PID when the file has
// one (the holder may not have written it yet).
func dataDirInUse(dir, path string) error {
	holder := "another authok process"
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			holder = fmt.Sprintf("another authok process (PID %d)", pid)
		}
	}
	return fmt.Errorf("data dir %s is in use by %s: stop it first, or give this one another --data-dir", dir, holder)
}
