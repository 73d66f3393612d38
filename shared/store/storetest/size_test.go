package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/authok-edge/authok/shared/store"
)

// PrefixBytes counts every key and value under the prefix, across scan
// pages, and nothing outside it.
func TestPrefixBytes(t *testing.T) {
	st := Local(t)
	var want int64
	var ops []store.Op
	for i := range 250 { // three scan pages
		k, v := fmt.Sprintf("p/%03d", i), fmt.Sprintf("value-%d", i)
		ops = append(ops, store.Put([]byte(k), []byte(v)))
		want += int64(len(k) + len(v))
	}
	ops = append(ops, store.Put([]byte("q/outside"), []byte("not counted")))
	if _, err := st.Apply(context.Background(), store.Txn{Ops: ops}); err != nil {
		t.Fatal(err)
	}
	if got := PrefixBytes(t, st, []byte("p/")); got != want {
		t.Fatalf("PrefixBytes(p/) = %d, want %d", got, want)
	}
	if got := PrefixBytes(t, st, []byte("none/")); got != 0 {
		t.Fatalf("PrefixBytes of an empty prefix = %d, want 0", got)
	}
}
