package loadgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"slices"
	"time"
)

// SignCost is the in-process cost of one raw signature.
type SignCost struct {
	Alg    string        `json:"alg"`
	Key    string        `json:"key"`
	Ops    int           `json:"ops"`
	Batch  int           `json:"batch"`
	Median time.Duration `json:"median_ns"` // median over batches of per-op wall time
}

// MeasureSign times ops signatures with a freshly generated key of alg,
// single-threaded, in batches (time.Now around each batch), and returns the
// median per-op time of the batches. The signed input is the SHA-256
// digest of a JWT-sized signing input: RS256 signs it with PKCS #1 v1.5,
// PS256 with PSS (salt length = hash length, as JWS requires), ES256 with
// ECDSA P-256; EdDSA (Ed25519) signs the 32 digest bytes as its message,
// since Ed25519 hashes internally. Hashing is outside the timed region; on
// an idle machine wall time is CPU time for this single-threaded loop.
func MeasureSign(alg string, ops int) (SignCost, error) {
	if ops < 1 {
		return SignCost{}, fmt.Errorf("loadgen: MeasureSign: ops %d", ops)
	}
	digest := sha256.Sum256(make([]byte, 320)) // the size of a small JWT's header.payload
	var (
		sign func() error
		key  string
	)
	switch alg {
	case "RS256", "PS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return SignCost{}, err
		}
		key = "RSA 2048"
		if alg == "RS256" {
			sign = func() error {
				_, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest[:])
				return err
			}
		} else {
			pss := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
			sign = func() error {
				_, err := rsa.SignPSS(rand.Reader, k, crypto.SHA256, digest[:], pss)
				return err
			}
		}
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return SignCost{}, err
		}
		key = "ECDSA P-256"
		sign = func() error {
			_, err := ecdsa.SignASN1(rand.Reader, k, digest[:])
			return err
		}
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return SignCost{}, err
		}
		key = "Ed25519"
		sign = func() error {
			_ = ed25519.Sign(k, digest[:])
			return nil
		}
	default:
		return SignCost{}, fmt.Errorf("loadgen: MeasureSign: unknown alg %q", alg)
	}
	// Warm caches and the key's precomputed values first.
	for range min(ops/10+1, 50) {
		if err := sign(); err != nil {
			return SignCost{}, err
		}
	}
	batch := max(ops/40, 1)
	var perOp []time.Duration
	for done := 0; done < ops; done += batch {
		n := min(batch, ops-done)
		t0 := time.Now()
		for range n {
			if err := sign(); err != nil {
				return SignCost{}, err
			}
		}
		perOp = append(perOp, time.Since(t0)/time.Duration(n))
	}
	slices.Sort(perOp)
	return SignCost{Alg: alg, Key: key, Ops: ops, Batch: batch, Median: perOp[len(perOp)/2]}, nil
}
