package logship

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
)

// noisy is an event of about 4 KB that does not compress, numbered n.
func noisy(tenant string, n int, at time.Time) *Event {
	e := &Event{Tenant: tenant, Date: at, Type: TypeExchangeFailed, Description: "wrong secret", ClientID: "c1"}
	for range 8 {
		b := make([]byte, 240)
		rand.Read(b)
		e.Details = append(e.Details, Detail{"noise", hex.EncodeToString(b)})
	}
	e.UserID = "n" + string(rune('a'+n/26/26%26)) + string(rune('a'+n/26%26)) + string(rune('a'+n%26))
	return e
}

// logBytes is what tenant's stored batches take (keys and values), and the
// numbers of the events kept, in order.
func logBytes(t *testing.T, st store.Reader, tenant string) (int64, []string) {
	t.Helper()
	n := storetest.PrefixBytes(t, st, repo.LogPrefix(tenant))
	raw, err := Events(st, tenant, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, ev := range raw {
		var m map[string]any
		if err := json.Unmarshal(ev, &m); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, m["user_id"].(string))
	}
	return n, kept
}

// usageTotal is what tenant's usage record counts.
func usageTotal(t *testing.T, st store.Reader, tenant string) int64 {
	t.Helper()
	u, err := readUsage(st, tenant, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return u.total()
}

// A tenant's stored log never exceeds its quota: each batch deletes the
// oldest batches it needs room for, in its own transaction, so the newest
// events are kept; another tenant's log is untouched.
func TestQuotaDropsOldestFirst(t *testing.T) {
	const quota = 64 << 10
	st := openStore(t)
	s, err := New(Config{Store: st, BatchSize: 4, QuotaBytes: quota})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-time.Hour)
	s.Record(noisy("other", 0, at))
	var recorded []string
	for i := range 200 {
		e := noisy("acme", i, at.Add(time.Duration(i)*time.Millisecond))
		recorded = append(recorded, e.UserID)
		s.Record(e)
		if i%4 != 3 {
			continue
		}
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		n, kept := logBytes(t, st, "acme")
		if n > quota {
			t.Fatalf("after %d events acme's log takes %d bytes, over its quota %d", i+1, n, quota)
		}
		if u := usageTotal(t, st, "acme"); u != n {
			t.Fatalf("after %d events the usage record counts %d bytes, the store holds %d", i+1, u, n)
		}
		// What is kept is the newest events, all of them, in order.
		if len(kept) == 0 || len(kept) > i+1 {
			t.Fatalf("after %d events, %d kept", i+1, len(kept))
		}
		newest := recorded[i+1-len(kept):]
		for j := range kept {
			if kept[j] != newest[j] {
				t.Fatalf("after %d events, kept %v, want the newest %v", i+1, kept, newest)
			}
		}
	}
	if n, kept := logBytes(t, st, "acme"); len(kept) >= 200 || n < quota/2 {
		t.Fatalf("acme keeps %d events in %d bytes: the quota dropped nothing, or far too much", len(kept), n)
	}
	if _, kept := logBytes(t, st, "other"); len(kept) != 1 {
		t.Fatalf("other tenant keeps %d events, want its 1", len(kept))
	}
}

// shipConcurrently runs one shipper per store at once, each recording
// events noisy events of acme (numbered from its index×1000) and shipping
// every second one. A batch that lost the usage race more than
// conflictRetries times, or whose outcome a busy cluster left unknown,
// stays in the ring: it is shipped again, as the shipper's loop would, for
// up to a minute.
func shipConcurrently(t *testing.T, stores []Applier, quota int64, events int, at time.Time) {
	t.Helper()
	var wg sync.WaitGroup
	for n, st := range stores {
		s, err := New(Config{Store: st, BatchSize: 2, QuotaBytes: quota})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for i := range events {
				s.Record(noisy("acme", n*1000+i, at.Add(time.Duration(i)*time.Millisecond)))
				if i%2 == 1 {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					for s.Flush(ctx) != nil && ctx.Err() == nil {
					}
					cancel()
				}
			}
		})
	}
	wg.Wait()
}

// Nodes shipping the same tenant's events at once keep the bound and the
// count exact: a batch built on a usage another node changed is rebuilt.
func TestQuotaConcurrentShippers(t *testing.T) {
	const quota = 48 << 10
	st := openStore(t)
	at := time.Now().UTC().Add(-time.Hour)
	shipConcurrently(t, []Applier{st, st, st}, quota, 60, at)
	n, _ := logBytes(t, st, "acme")
	if n > quota {
		t.Fatalf("acme's log takes %d bytes, over its quota %d", n, quota)
	}
	if u := usageTotal(t, st, "acme"); u != n {
		t.Fatalf("the usage record counts %d bytes, the store holds %d: a count was lost", u, n)
	}
}

// Days of the usage record before the oldest stored batch's expiry count
// batches the store has already expired: they are forgotten before any
// stored batch is deleted.
func TestQuotaForgetsExpiredBatches(t *testing.T) {
	const quota = 64 << 10
	st := openStore(t)
	s, err := New(Config{Store: st, BatchSize: 4, QuotaBytes: quota})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-time.Hour)
	for i := range 4 {
		s.Record(noisy("acme", i, at))
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Pretend the record also counts a day of batches that expire
	// tomorrow, before the stored one, and are gone: the record says the
	// tenant is full.
	u, err := readUsage(st, "acme", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u.days[dayOf(time.Now().Add(usageDay))] = quota
	it, _ := st.Get(repo.LogUsageKey("acme"))
	if _, err := st.Apply(context.Background(), store.Txn{
		Conds: []store.Cond{store.AtVersion(it.Key, it.Version)},
		Ops:   []store.Op{store.Put(it.Key, u.encode())},
	}); err != nil {
		t.Fatal(err)
	}
	for i := 4; i < 8; i++ {
		s.Record(noisy("acme", i, at))
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, kept := logBytes(t, st, "acme")
	if len(kept) != 8 {
		t.Fatalf("kept %d events; want all 8 (the phantom day is forgotten, nothing stored is deleted)", len(kept))
	}
	if usageTotal(t, st, "acme") != n {
		t.Fatalf("usage %d, stored %d", usageTotal(t, st, "acme"), n)
	}
}

// A batch larger than the whole quota is not stored (nor anything deleted
// for it), and counted.
func TestQuotaBatchLargerThanQuota(t *testing.T) {
	st := openStore(t)
	s, err := New(Config{Store: st, BatchSize: 8, QuotaBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-time.Hour)
	s.Record(noisy("acme", 0, at))
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 8; i++ {
		s.Record(noisy("acme", i, at))
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, kept := logBytes(t, st, "acme"); len(kept) != 1 || kept[0] != noisy("", 0, at).UserID {
		t.Fatalf("kept %v, want only the first event", kept)
	}
	if st := s.Stats(); st.OverQuota != 8 {
		t.Fatalf("OverQuota = %d, want 8", st.OverQuota)
	}
}

func TestQuotaConfig(t *testing.T) {
	write := applierFunc(func(context.Context, store.Txn) (store.Result, error) { return store.Result{}, errors.New("x") })
	if _, err := New(Config{Store: write}); err == nil {
		t.Fatal("a Store that cannot be read was accepted with a quota")
	}
	if _, err := New(Config{Store: write, QuotaBytes: -1}); err != nil {
		t.Fatalf("without a quota: %v", err)
	}
}

func TestDecodeUsageRefusesDamage(t *testing.T) {
	for _, v := range [][]byte{nil, {0}, {2}, {usageFormat, 0x80}, {usageFormat, 1}} {
		if _, err := decodeUsage(v); err == nil {
			t.Errorf("decodeUsage(%x) accepted", v)
		}
	}
	u := usage{days: map[int64]int64{20000: 5, 19990: 1 << 40}}
	got, err := decodeUsage(u.encode())
	if err != nil || len(got) != 2 || got[20000] != 5 || got[19990] != 1<<40 {
		t.Fatalf("round trip: %v, %v", got, err)
	}
}

// On a real cluster, two edges shipping one tenant's events at once (their
// writes forwarded to the leader) keep the bound and an exact count, and
// every replica holds the same batches.
func TestQuotaCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Raft cluster")
	}
	const quota = 48 << 10
	c := storetest.NewCluster(t, 1, 2, storetest.ClusterOptions{})
	at := time.Now().UTC().Add(-time.Hour)
	var stores []Applier
	for _, m := range c.Edges() {
		stores = append(stores, m.Node)
	}
	shipConcurrently(t, stores, quota, 40, at)
	leader := c.Leader().Node
	want, kept := logBytes(t, leader, "acme")
	if len(kept) >= 80 {
		t.Fatalf("all %d events kept: the quota was never reached, the test proves nothing", len(kept))
	}
	if want > quota {
		t.Fatalf("acme's log takes %d bytes on the leader, over its quota %d", want, quota)
	}
	if u := usageTotal(t, leader, "acme"); u != want {
		t.Fatalf("the usage record counts %d bytes, the leader holds %d", u, want)
	}
	idx := leader.AppliedIndex()
	for _, m := range c.Running() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := m.Node.WaitApplied(ctx, idx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := logBytes(t, m.Node, "acme"); got != want {
			t.Fatalf("%s holds %d bytes of acme's log, the leader %d", m.ID, got, want)
		}
	}
}
