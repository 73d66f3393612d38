package logship

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/store"
)

func openStore(t *testing.T) *store.Local {
	t.Helper()
	st, err := store.OpenLocalWith(t.TempDir(), store.LocalOptions{ReapInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// countingApplier counts transactions and can be made to fail.
type countingApplier struct {
	st    store.Store
	txns  atomic.Int64
	fail  atomic.Bool
	calls atomic.Int64
}

func (c *countingApplier) Apply(ctx context.Context, t store.Txn) (store.Result, error) {
	c.calls.Add(1)
	if c.fail.Load() {
		return store.Result{}, errors.New("leader unreachable")
	}
	c.txns.Add(1)
	return c.st.Apply(ctx, t)
}

func (c *countingApplier) Get(key []byte) (store.Item, error) { return c.st.Get(key) }
func (c *countingApplier) Scan(prefix, after []byte, limit int) ([]store.Item, []byte, error) {
	return c.st.Scan(prefix, after, limit)
}

// date is recent: the store hides events once their retention has passed.
var date = time.Now().UTC().Truncate(time.Second).Add(-time.Hour)

func event(tenant string, i int) *Event {
	return &Event{
		Tenant: tenant, Date: date.Add(time.Duration(i) * time.Millisecond),
		Type: TypeExchangeSuccess, Description: "Client Credentials for Access Token",
		ClientID: "c1", ClientName: "machine \"one\"", Audience: "https://api/", Scope: "read:x",
		IP: netip.MustParseAddr("::ffff:10.1.2.3"), Hostname: []byte("acme.example.com"),
		UserAgent: []byte("Go-http-client/1.1"),
		Details:   []Detail{{"grant_type", "client_credentials"}},
	}
}

func TestRecordAndFlush(t *testing.T) {
	st := openStore(t)
	app := &countingApplier{st: st}
	s, err := New(Config{Store: app, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		ev := event("acme", i)
		s.Record(ev)
		ev.Hostname[0] = 'X' // the caller may reuse its bytes at once
	}
	s.Record(event("other", 0))
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := app.txns.Load(); n != 3 {
		t.Errorf("%d transactions for 11 events in batches of 4, want 3", n)
	}
	// Batches of 4: acme's ten events are in three keys (4, 4 and 2 of
	// them; the last batch also holds other's event, under its own key).
	items, _, err := st.Scan(repo.LogPrefix("acme"), nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range items {
		keys = append(keys, string(it.Key))
	}
	if len(items) != 3 || !sort.StringsAreSorted(keys) {
		t.Fatalf("acme's events are under keys %v, want 3 batches in date order", keys)
	}
	for i, it := range items {
		newest := min(4*i+3, 9)
		if want := date.Add(time.Duration(newest)*time.Millisecond + DefaultRetention); !it.ExpiresAt.Equal(want) {
			t.Errorf("batch %d expires at %v, want its newest event's date + retention %v", i, it.ExpiresAt, want)
		}
	}
	events, err := Events(st, "acme", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 10 {
		t.Fatalf("%d events stored under acme, want 10", len(events))
	}
	batchOf := 0
	for i, ev := range events {
		var got map[string]any
		if err := json.Unmarshal(ev, &got); err != nil {
			t.Fatalf("event %d is not JSON: %v: %s", i, err, ev)
		}
		id, _ := got["log_id"].(string)
		if len(id) != IDLength {
			t.Errorf("event %d: log_id %q", i, id)
		}
		if i%4 == 0 {
			// A batch's key is its smallest id: here the first, the
			// dates being increasing.
			if want := string(repo.LogKey("acme", id)); keys[batchOf] != want {
				t.Errorf("batch %d is under %s, want %s", batchOf, keys[batchOf], want)
			}
			batchOf++
		}
		want := map[string]any{
			"log_id": id, "id": id, "_id": id, "date": date.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000Z"),
			"type": "exchange_success", "description": "Client Credentials for Access Token",
			"client_id": "c1", "client_name": `machine "one"`, "audience": "https://api/", "scope": "read:x",
			"ip": "10.1.2.3", "hostname": "acme.example.com", "user_agent": "Go-http-client/1.1",
			"details": map[string]any{"grant_type": "client_credentials"},
		}
		for k, v := range want {
			if k == "details" {
				if d, _ := got[k].(map[string]any); d == nil || d["grant_type"] != "client_credentials" {
					t.Errorf("event %d: details = %v", i, got[k])
				}
				continue
			}
			if got[k] != v {
				t.Errorf("event %d: %s = %v, want %v", i, k, got[k], v)
			}
		}
	}
	if other, err := Events(st, "other", 100); err != nil || len(other) != 1 {
		t.Errorf("other tenant: %d events, %v", len(other), err)
	}
	if some, err := Events(st, "acme", 5); err != nil || len(some) != 5 {
		t.Errorf("Events with limit 5: %d events, %v", len(some), err)
	}
	if st := s.Stats(); st.Recorded != 11 || st.Shipped != 11 || st.Buffered != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestFullRingDropsOldest(t *testing.T) {
	st := openStore(t)
	reg := prometheus.NewRegistry()
	s, err := New(Config{Store: st, Capacity: 5, BatchSize: 100, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		ev := event("acme", i)
		ev.Description = string(rune('a' + i))
		s.Record(ev)
	}
	if st := s.Stats(); st.Dropped != 3 || st.Buffered != 5 {
		t.Fatalf("stats %+v, want 3 dropped and 5 buffered", st)
	}
	if v := counterValue(t, reg, "authok_logship_events_dropped_total"); v != 3 {
		t.Errorf("dropped metric = %v", v)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	events, err := Events(st, "acme", 100)
	if err != nil {
		t.Fatal(err)
	}
	var descs []string
	for _, ev := range events {
		var e struct{ Description string }
		json.Unmarshal(ev, &e)
		descs = append(descs, e.Description)
	}
	if strings.Join(descs, "") != "defgh" {
		t.Fatalf("kept %v, want the newest five (d..h)", descs)
	}
}

// counterValue gathers one counter of reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// A failed batch stays queued and ships once the store is back.
func TestFailedBatchIsRetried(t *testing.T) {
	st := openStore(t)
	app := &countingApplier{st: st}
	app.fail.Store(true)
	s, err := New(Config{Store: app, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Close(context.Background())
	for i := range 3 {
		s.Record(event("acme", i))
	}
	waitFor(t, func() bool { return app.calls.Load() >= 2 })
	if st := s.Stats(); st.Buffered != 3 || st.Failed == 0 {
		t.Fatalf("after failures: %+v", st)
	}
	app.fail.Store(false)
	waitFor(t, func() bool { return s.Stats().Shipped == 3 })
	if events, err := Events(st, "acme", 100); err != nil || len(events) != 3 {
		t.Fatalf("%d stored, %v", len(events), err)
	}
}

// Record never waits for the store, even when every write hangs.
func TestRecordNeverBlocks(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	s, err := New(Config{Store: applierFunc(func(ctx context.Context, _ store.Txn) (store.Result, error) {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return store.Result{}, errors.New("blocked")
	}), Capacity: 64, BatchSize: 8, FlushInterval: time.Millisecond, QuotaBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				s.Record(event("acme", w*1000+i))
			}
		}()
	}
	// The store never answers until the test ends: a Record that waited
	// for it would never return. A minute tells that from a slow machine.
	recorded := make(chan struct{})
	go func() { wg.Wait(); close(recorded) }()
	select {
	case <-recorded:
	case <-time.After(time.Minute):
		t.Fatal("Record blocked on a store that does not answer")
	}
	if st := s.Stats(); st.Recorded != 4000 || st.Buffered != 64 || st.Dropped != 4000-64 {
		t.Fatalf("stats %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err == nil {
		t.Fatal("Close reported success with events unshipped")
	}
}

type applierFunc func(context.Context, store.Txn) (store.Result, error)

func (f applierFunc) Apply(ctx context.Context, t store.Txn) (store.Result, error) { return f(ctx, t) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // only a fault, not a starved machine, takes that long
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestIDsSortByTime(t *testing.T) {
	var prev string
	for i := range 1000 {
		ts := date.Add(time.Duration(i) * time.Millisecond)
		var ent [10]byte
		if i%2 == 0 {
			for j := range ent {
				ent[j] = 0xff
			}
		}
		id := string(appendID(nil, ts, ent))
		if len(id) != IDLength {
			t.Fatalf("id %q has %d characters", id, len(id))
		}
		if id <= prev {
			t.Fatalf("id %q at %v does not sort after %q", id, ts, prev)
		}
		prev = id
	}
	// The canonical ULID of the zero entropy at a known instant.
	if got := string(appendID(nil, time.UnixMilli(1469918176385), [10]byte{})); got != "01ARYZ6S410000000000000000" {
		t.Fatalf("ULID = %s", got)
	}
}

func TestEventJSONEscapes(t *testing.T) {
	e := &Event{Tenant: "t", Type: "exchange_failed", Description: "bad \"x\"\n\x01\u2028<&>",
		UserAgent: []byte("ua\xff"), Details: []Detail{{"error", "invalid_client"}}}
	b := e.appendJSON(nil, []byte("01ARYZ6S410000000000000000"), date)
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if got["description"] != "bad \"x\"\n\x01\u2028<&>" || got["user_agent"] != "ua\uFFFD" {
		t.Fatalf("got %v", got)
	}
	if _, ok := got["ip"]; ok {
		t.Error("an absent IP is emitted")
	}
}

func TestRecordAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	s, err := New(Config{Store: openStore(t), Capacity: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	ev := event("acme", 0)
	// One allocation: the encoded event the ring keeps.
	if n := testing.AllocsPerRun(200, func() { s.Record(ev) }); n > 1 {
		t.Fatalf("Record allocates %v times, want 1", n)
	}
	// A hostile event is cut without allocating, and copied once if its
	// escapes outgrew the first buffer.
	ev.ClientID = string(make80(20000))
	ev.UserAgent = make80(12 << 10)
	if n := testing.AllocsPerRun(200, func() { s.Record(ev) }); n > 2 {
		t.Fatalf("Record of a hostile event allocates %v times, want at most 2", n)
	}
}

func TestDecodeBatchRefusesDamage(t *testing.T) {
	good := encodeBatch([]entry{{value: []byte(`{"a":1}`)}, {value: []byte(`{"b":2}`)}})
	if events, err := DecodeBatch(good); err != nil || len(events) != 2 || string(events[1]) != `{"b":2}` {
		t.Fatalf("round trip: %q, %v", events, err)
	}
	enc, _ := codec()
	for name, v := range map[string][]byte{
		"empty":           nil,
		"unknown format":  append([]byte{9}, good[1:]...),
		"not zstd":        {batchFormat, 'x', 'y', 'z'},
		"truncated":       good[:len(good)-3],
		"length too long": enc.EncodeAll([]byte{200, 'x'}, []byte{batchFormat}),
		"zero length":     enc.EncodeAll([]byte{0}, []byte{batchFormat}),
	} {
		if _, err := DecodeBatch(v); !errors.Is(err, ErrBadBatch) {
			t.Errorf("%s: err = %v, want ErrBadBatch", name, err)
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(encodeBatch([]entry{{value: []byte(`{"a":1}`)}}))
	f.Add([]byte{batchFormat})
	f.Fuzz(func(t *testing.T, v []byte) {
		events, err := DecodeBatch(v)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same events.
		again := make([]entry, len(events))
		for i, e := range events {
			again[i].value = e
		}
		back, err := DecodeBatch(encodeBatch(again))
		if err != nil || len(back) != len(events) {
			t.Fatalf("re-encoded batch: %d events, %v", len(back), err)
		}
	})
}

// A thousand similar events compress to a small fraction of their JSON.
func TestBatchCompresses(t *testing.T) {
	var events []entry
	raw := 0
	for i := range 1000 {
		ev := event("acme", i)
		var id [IDLength]byte
		appendID(id[:0], ev.Date, [10]byte{byte(i), byte(i >> 8), 7})
		events = append(events, entry{value: ev.appendJSON(nil, id[:], ev.Date)})
		raw += len(events[i].value)
	}
	if n := len(encodeBatch(events)); n*4 > raw {
		t.Fatalf("1000 events: %d bytes of JSON stored as %d", raw, n)
	}
}

// Events that do not compress (MaxEventBytes of random details each) are
// split by size, so no transaction nears the store's value limit.
func TestBatchesAreBoundedBySize(t *testing.T) {
	st := openStore(t)
	app := &countingApplier{st: st}
	s, err := New(Config{Store: app, Capacity: 1024, BatchSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	random := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		for i := range b {
			b[i] = letters[b[i]&63]
		}
		return string(b)
	}
	const n = 400 // of ~12.7 KB: more than maxShipBytes
	for i := range n {
		ev := event("acme", i)
		ev.Details = make([]Detail, MaxDetails)
		for j := range ev.Details {
			ev.Details[j] = Detail{random(MaxFieldBytes), random(MaxTextBytes)}
		}
		s.Record(ev)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if txns := app.txns.Load(); txns < 2 {
		t.Errorf("~5 MiB of incompressible events in %d transaction(s)", txns)
	}
	items, _, err := st.Scan(repo.LogPrefix("acme"), nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, it := range items {
		if len(it.Value) > 2*maxShipBytes {
			t.Errorf("batch %s holds %d bytes", it.Key, len(it.Value))
		}
		events, err := DecodeBatch(it.Value)
		if err != nil {
			t.Fatal(err)
		}
		total += len(events)
	}
	if total != n {
		t.Fatalf("%d events stored, want %d", total, n)
	}
}
