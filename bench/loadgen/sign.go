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
	"runtime"
	"slices"
	"time"
)

// SignCost is the in-process cost of one raw signature.
type SignCost struct {
	Alg   string
	Key   string
	Ops   int
	Batch int
	// Median is the median over batches of the per-op wall time
	// (time.Now around each batch).
	Median time.Duration
	// MedianCPU is the same for the thread's CPU time
	// (clock_gettime(CLOCK_THREAD_CPUTIME_ID), the loop locked to its OS thread); 0 when
	// the platform cannot tell. CPU per request on the server is compared
	// with this one: wall time also counts the moments the thread was
	// descheduled or the hypervisor stole the core.
	MedianCPU time.Duration
}

// MeasureSign times ops signatures with a freshly generated key of alg,
// single-threaded, in batches (time.Now around each batch), and returns the
// median per-op time of the batches, as wall time and as the thread's CPU
// time. The signed input is the SHA-256
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
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	batch := max(ops/40, 1)
	var wall, cpu []time.Duration
	cpuOK := true
	for done := 0; done < ops; done += batch {
		n := min(batch, ops-done)
		c0, err0 := threadCPU()
		t0 := time.Now()
		for range n {
			if err := sign(); err != nil {
				return SignCost{}, err
			}
		}
		wall = append(wall, time.Since(t0)/time.Duration(n))
		c1, err1 := threadCPU()
		cpuOK = cpuOK && err0 == nil && err1 == nil
		cpu = append(cpu, (c1-c0)/time.Duration(n))
	}
	sc := SignCost{Alg: alg, Key: key, Ops: ops, Batch: batch, Median: median(wall)}
	if cpuOK {
		sc.MedianCPU = median(cpu)
	}
	return sc, nil
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
