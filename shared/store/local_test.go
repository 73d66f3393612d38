package store_test

import (
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
)

func TestLocalConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		s, err := store.OpenLocalWith(t.TempDir(), store.LocalOptions{Now: now, ReapInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
