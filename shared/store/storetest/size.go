package storetest

import (
	"testing"

	"github.com/authok-edge/authok/shared/store"
)

// PrefixBytes is what the live items under prefix take (keys and values):
// the measure of how much a bounded store area holds.
func PrefixBytes(tb testing.TB, st store.Reader, prefix []byte) int64 {
	tb.Helper()
	var n int64
	var after []byte
	for {
		items, next, err := st.Scan(prefix, after, 100)
		if err != nil {
			tb.Fatalf("storetest: scan %q: %v", prefix, err)
		}
		for _, it := range items {
			n += int64(len(it.Key) + len(it.Value))
		}
		if next == nil {
			return n
		}
		after = next
	}
}
