package cache

import (
	"fmt"
	"testing"

	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
)

const benchKeys = 1024

func benchStore(b *testing.B) (*store.Local, [][]byte) {
	b.Helper()
	st := openStore(b)
	keys := make([][]byte, benchKeys)
	var ops []store.Op
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "t/acme/client/%04d", i)
		ops = append(ops, store.Put(keys[i], storetest.BenchValue(i)))
	}
	apply(b, st, ops...)
	return st, keys
}

func benchCache(b *testing.B, st *store.Local, keys [][]byte) *Cache[*storetest.BenchClient] {
	b.Helper()
	c, err := New(st, storetest.DecodeBenchClient, Options{Name: "bench"})
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
		if _, err := storetest.DecodeBenchClient(it); err != nil {
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
			if _, err := storetest.DecodeBenchClient(it); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
