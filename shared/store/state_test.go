package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"
)

func openTestState(t *testing.T, now func() time.Time) *state {
	t.Helper()
	st, err := openState(t.TempDir(), false, now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.close() })
	return st
}

// dump lists every raw key and value of a state, for exact comparison.
func dump(t *testing.T, st *state) string {
	t.Helper()
	it, err := st.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var b bytes.Buffer
	for ok := it.First(); ok; ok = it.Next() {
		fmt.Fprintf(&b, "%q=%q\n", it.Key(), it.Value())
	}
	return b.String()
}

func fill(t *testing.T, st *state, now time.Time) {
	t.Helper()
	for i := uint64(1); i <= 50; i++ {
		ops := []Op{Put([]byte(fmt.Sprintf("k/%03d", i)), bytes.Repeat([]byte{byte(i)}, int(i)))}
		if i%5 == 0 {
			ops = append(ops, PutExpiring([]byte(fmt.Sprintf("ttl/%d", i)), nil, now.Add(time.Duration(i)*time.Minute)))
		}
		if i%7 == 0 {
			ops = append(ops, Delete([]byte(fmt.Sprintf("k/%03d", i-1))))
		}
		if _, err := st.apply(i, []Txn{{Ops: ops, Now: now}}); err != nil {
			t.Fatal(err)
		}
	}
}

func snapshotBytes(t *testing.T, st *state) []byte {
	t.Helper()
	snap := st.db.NewSnapshot()
	defer snap.Close()
	var buf bytes.Buffer
	if err := writeSnapshot(snap, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	src := openTestState(t, clock)
	fill(t, src, now)
	data := snapshotBytes(t, src)

	dst := openTestState(t, clock)
	// The destination holds other data that the restore must replace.
	if _, err := dst.apply(7, []Txn{{Ops: []Op{Put([]byte("stale"), []byte("x"))}, Now: now}}); err != nil {
		t.Fatal(err)
	}
	var reset bool
	dst.subscribe(func(ev Event) { reset = reset || ev.Reset })
	if err := dst.restore(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if got, want := dump(t, dst), dump(t, src); got != want {
		t.Fatalf("restored state differs:\n got %s\nwant %s", got, want)
	}
	if dst.applied.Load() != 50 || !reset {
		t.Fatalf("applied=%d reset=%v after restore", dst.applied.Load(), reset)
	}
	// The expiry index came along: the reaper finds the same keys.
	late := now.Add(time.Hour)
	a, _ := src.expired(late, 100)
	b, _ := dst.expired(late, 100)
	if len(a) != 10 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("expired keys differ: %v vs %v", a, b)
	}
}

func TestRestoreRejectsDamagedSnapshots(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	src := openTestState(t, clock)
	fill(t, src, now)
	good := snapshotBytes(t, src)

	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not a snapshot", []byte("hello world, this is not a snapshot")},
		{"truncated in records", good[:len(good)/2]},
		{"truncated trailer", good[:len(good)-3]},
		{"bit flip", flipped},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := openTestState(t, clock)
			if _, err := dst.apply(3, []Txn{{Ops: []Op{Put([]byte("mine"), []byte("kept"))}, Now: now}}); err != nil {
				t.Fatal(err)
			}
			before := dump(t, dst)
			if err := dst.restore(bytes.NewReader(tc.data)); err == nil {
				t.Fatal("damaged snapshot restored without error")
			}
			if dump(t, dst) != before || dst.applied.Load() != 3 {
				t.Fatal("a failed restore changed the state")
			}
		})
	}
}

func TestApplySkipsAlreadyAppliedIndexes(t *testing.T) {
	now := time.Now()
	st := openTestState(t, func() time.Time { return now })
	if _, err := st.apply(5, []Txn{{Ops: []Op{Put([]byte("a"), []byte("1"))}, Now: now}}); err != nil {
		t.Fatal(err)
	}
	// Replaying an entry at or below the applied index (raft replays the
	// log after a restart) must not apply it again.
	if _, err := st.apply(5, []Txn{{Ops: []Op{Put([]byte("a"), []byte("replayed"))}, Now: now}}); err != nil {
		t.Fatal(err)
	}
	it, _ := st.get([]byte("a"))
	if string(it.Value) != "1" {
		t.Fatalf("replayed entry applied again: %q", it.Value)
	}
	if err := st.waitApplied(context.Background(), 5); err != nil {
		t.Fatal(err)
	}
}
