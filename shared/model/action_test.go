package model

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestNewExecutionIDSortsByTime(t *testing.T) {
	base := time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)
	var prev string
	for i, d := range []time.Duration{0, time.Millisecond, time.Second, time.Hour, 24 * 365 * time.Hour} {
		// Entropy alternates all-ones and zeros: time alone must order them.
		ent := bytes.Repeat([]byte{0xff >> (i % 2 * 8)}, 10)
		id, err := NewExecutionID(bytes.NewReader(ent), base.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != ExecutionIDLength || strings.Trim(id, crockford32) != "" {
			t.Fatalf("id %q: not %d Crockford digits", id, ExecutionIDLength)
		}
		if prev != "" && id <= prev {
			t.Fatalf("id %q for a later time does not sort after %q", id, prev)
		}
		prev = id
	}
	// The time 0 with zero entropy is all zeros.
	if id, _ := NewExecutionID(bytes.NewReader(make([]byte, 10)), time.UnixMilli(0)); id != strings.Repeat("0", 26) {
		t.Fatalf("zero id = %q", id)
	}
	if _, err := NewExecutionID(bytes.NewReader(nil), base); err == nil {
		t.Fatal("no error without randomness")
	}
}
