package cache

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/authok-edge/authok/shared/store"
)

// benchClient is shaped like what the token endpoint reads: a client with
// a handful of fields, stored as JSON.
type benchClient struct {
	ID           string   `json:"client_id"`
	Name         string   `json:"name"`
	SecretHash   string   `json:"client_secret"`
	GrantTypes   []string `json:"grant_types"`
	Callbacks    []string `json:"callbacks"`
	TokenTTL     int      `json:"token_lifetime"`
	IsFirstParty bool     `json:"is_first_party"`
	Version      uint64   `json:"-"`
}

func decodeClient(it store.Item) (*benchClient, error) {
	var c benchClient
	if err := json.Unmarshal(it.Value, &c); err != nil {
		return nil, err
	}
	c.Version = it.Version
	return &c, nil
}

const benchKeys = 1024

func benchStore(b *testing.B) (*store.Local, [][]byte) {
	b.Helper()
	st := openStore(b)
	keys := make([][]byte, benchKeys)
	var ops []store.Op
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "t/acme/client/%04d", i)
		v, _ := json.Marshal(benchClient{
			ID: fmt.Sprintf("client%04d", i), Name: "Example app", SecretHash: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
			GrantTypes: []string{"client_credentials", "refresh_token"}, Callbacks: []string{"https://app.example.com/cb"},
			TokenTTL: 86400,
		})
		ops = append(ops, store.Put(keys[i], v))
	}
	apply(b, st, ops...)
	return st, keys
}

func benchCache(b *testing.B, st *store.Local, keys [][]byte) *Cache[*benchClient] {
	b.Helper()
	c, err := New(st, decodeClient, Options{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	for range 2 {
		for _, k := range keys {
			if _, err := c.Get(k); err != nil {
				b.Fatal(err)
			}
		}
	}
	return c
}

func BenchmarkCacheGetHit(b *testing.B) {
	st, keys := benchStore(b)
	c := benchCache(b, st, keys)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Get(keys[i%benchKeys]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkCacheGetHitParallel(b *testing.B) {
	st, keys := benchStore(b)
	c := benchCache(b, st, keys)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.Get(keys[i%benchKeys]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkStoreGetUncached(b *testing.B) {
	st, keys := benchStore(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		it, err := st.Get(keys[i%benchKeys])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := decodeClient(it); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkStoreGetUncachedParallel(b *testing.B) {
	st, keys := benchStore(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			it, err := st.Get(keys[i%benchKeys])
			if err != nil {
				b.Fatal(err)
			}
			if _, err := decodeClient(it); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
