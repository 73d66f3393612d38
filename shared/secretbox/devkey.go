package secretbox

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// DevKeyFile is the name of the development master key inside a data folder.
const DevKeyFile = "master.key"

// LoadOrCreateDevKey returns the master key stored in <dataDir>/master.key,
// creating the folder (mode 0700) and a fresh random key file (mode 0600)
// when there is none. A file that exists but does not hold a valid key is an
// error: it is never overwritten, since replacing the key would make every
// secret already sealed with it unreadable.
//
// It is for `authok dev` only; production nodes are given their key.
func LoadOrCreateDevKey(dataDir string) (Key, error) {
	return loadOrCreateDevKey(dataDir, rand.Reader)
}

func loadOrCreateDevKey(dataDir string, r io.Reader) (Key, error) {
	if dataDir == "" {
		return Key{}, errors.New("secretbox: dev key: empty data folder")
	}
	path := filepath.Join(dataDir, DevKeyFile)
	if k, err := readKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}

	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return Key{}, fmt.Errorf("secretbox: dev key: %w", err)
	}
	k, err := GenerateKey(r)
	if err != nil {
		return Key{}, err
	}
	// Write a temporary file, then link it into place: the key file appears
	// complete or not at all, and a concurrent creator cannot be clobbered
	// (link fails when the name exists; we then read the winner's key).
	tmp, err := os.CreateTemp(dataDir, ".master.key-*")
	if err != nil {
		return Key{}, fmt.Errorf("secretbox: dev key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return Key{}, fmt.Errorf("secretbox: dev key: %w", err)
	}
	if _, err := tmp.WriteString(k.Encode() + "\n"); err != nil {
		tmp.Close()
		return Key{}, fmt.Errorf("secretbox: dev key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return Key{}, fmt.Errorf("secretbox: dev key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Key{}, fmt.Errorf("secretbox: dev key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		return Key{}, fmt.Errorf("secretbox: dev key: %w", err)
	}
	return k, nil
}

func readKeyFile(path string) (Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Key{}, err
		}
		return Key{}, fmt.Errorf("secretbox: dev key: %w", err)
	}
	k, err := ParseMasterKey(string(b))
	if err != nil {
		return Key{}, fmt.Errorf("secretbox: dev key %s holds no valid key, refusing to use or replace it: %w", path, err)
	}
	return k, nil
}
