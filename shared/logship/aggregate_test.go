package logship

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/store"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// storedEvents decodes every stored event of tenant.
func storedEvents(t *testing.T, s *Shipper, tenant string) []map[string]any {
	t.Helper()
	raw, err := Events(s.cfg.Store.(store.Reader), tenant, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(raw))
	for i, ev := range raw {
		if err := json.Unmarshal(ev, &out[i]); err != nil {
			t.Fatalf("event %d: %v: %s", i, err, ev)
		}
	}
	return out
}

func details(ev map[string]any) map[string]any {
	d, _ := ev["details"].(map[string]any)
	return d
}

// failure is an event nobody can be held to, aggregated under key.
func failure(tenant, key, clientID string, at time.Time) *Event {
	return &Event{
		Tenant: tenant, Date: at, Type: TypeExchangeFailed, Description: "unknown client",
		ClientID: clientID, Aggregate: key,
		Details: []Detail{{"grant_type", "client_credentials"}, {"error", "invalid_client"}},
	}
}

func TestAggregation(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	type summary struct {
		key   string
		count string
	}
	tests := []struct {
		name    string
		keys    int // Config.AggregateKeys
		record  func(s *Shipper, clk *fakeClock)
		singles int       // events stored one by one
		sums    []summary // summaries stored, in any order
	}{
		{
			name: "one key: the first, then one summary of the rest",
			record: func(s *Shipper, clk *fakeClock) {
				for i := range 1000 {
					s.Record(failure("acme", "invalid_client", fmt.Sprint("c", i), clk.Now()))
					clk.Add(time.Millisecond)
				}
			},
			singles: 1, sums: []summary{{"invalid_client", "999"}},
		},
		{
			name: "events without a key are all recorded",
			record: func(s *Shipper, clk *fakeClock) {
				for range 50 {
					s.Record(failure("acme", "", "c", clk.Now()))
				}
			},
			singles: 50,
		},
		{
			name: "a key seen once makes no summary",
			record: func(s *Shipper, clk *fakeClock) {
				s.Record(failure("acme", "a", "c", clk.Now()))
				s.Record(failure("acme", "b", "c", clk.Now()))
				s.Record(failure("acme", "b", "c", clk.Now()))
			},
			singles: 2, sums: []summary{{"b", "1"}},
		},
		{
			name: "beyond the key bound, one catch-all per tenant",
			keys: 4,
			record: func(s *Shipper, clk *fakeClock) {
				for i := range 100 {
					for range 2 {
						s.Record(failure("acme", fmt.Sprint("k", i), "c", clk.Now()))
					}
				}
			},
			singles: 4, sums: []summary{{"k0", "1"}, {"k1", "1"}, {"k2", "1"}, {"k3", "1"}, {OverflowKey, "192"}},
		},
		{
			name: "a window per minute: stored events grow with windows, not events",
			record: func(s *Shipper, clk *fakeClock) {
				for range 10 {
					for range 300 {
						s.Record(failure("acme", "invalid_client", "c", clk.Now()))
						clk.Add(100 * time.Millisecond) // 30 s of events
					}
					clk.Add(31 * time.Second)
					if err := s.Flush(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
			},
			singles: 10, sums: []summary{
				{"invalid_client", "299"}, {"invalid_client", "299"}, {"invalid_client", "299"}, {"invalid_client", "299"}, {"invalid_client", "299"},
				{"invalid_client", "299"}, {"invalid_client", "299"}, {"invalid_client", "299"}, {"invalid_client", "299"}, {"invalid_client", "299"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{now: t0}
			s, err := New(Config{Store: openStore(t), Now: clk.Now, AggregateKeys: tc.keys})
			if err != nil {
				t.Fatal(err)
			}
			tc.record(s, clk)
			clk.Add(DefaultAggregateWindow)
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			events := storedEvents(t, s, "acme")
			singles := 0
			got := map[summary]int{}
			for _, ev := range events {
				d := details(ev)
				if d[DetailCount] == nil {
					singles++
					continue
				}
				got[summary{d[DetailKey].(string), d[DetailCount].(string)}]++
				if ev["type"] != TypeExchangeFailed || d[DetailFirstDate] == nil {
					t.Errorf("summary %v lacks its type or first date", ev)
				}
				if d[DetailKey] != OverflowKey && (ev["description"] != "unknown client" || d["error"] != "invalid_client") {
					t.Errorf("summary %v does not carry its events' fields", ev)
				}
			}
			want := map[summary]int{}
			for _, s := range tc.sums {
				want[s]++
			}
			if singles != tc.singles || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("stored %d single events and summaries %v; want %d and %v", singles, got, tc.singles, want)
			}
		})
	}
}

// A summary's date is its last event's, first_date its first's; Close
// records the open window instead of losing it.
func TestAggregationSummaryDatesAndClose(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	clk := &fakeClock{now: t0}
	s, err := New(Config{Store: openStore(t), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		s.Record(failure("acme", "k", "c", t0.Add(time.Duration(i)*time.Second)))
	}
	if st := s.Stats(); st.Recorded != 1 || st.Aggregated != 4 {
		t.Fatalf("stats %+v: want 1 recorded and 4 aggregated", st)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	events := storedEvents(t, s, "acme")
	if len(events) != 2 {
		t.Fatalf("%d events stored, want the first and a summary", len(events))
	}
	sum := events[1]
	d := details(sum)
	if d[DetailCount] != "4" || d[DetailFirstDate] != t0.Add(time.Second).Format("2006-01-02T15:04:05.000Z") ||
		sum["date"] != t0.Add(4*time.Second).Format("2006-01-02T15:04:05.000Z") {
		t.Fatalf("summary %v: want count 4, first_date t0+1s, date t0+4s", sum)
	}
}

// The aggregator owns what it keeps: a caller may reuse its buffers.
func TestAggregationCopiesEvents(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	clk := &fakeClock{now: t0}
	s, err := New(Config{Store: openStore(t), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	host := []byte("acme.example.com")
	for range 3 {
		e := failure("acme", "k", "c", t0)
		e.Hostname = host
		s.Record(e)
	}
	copy(host, "XXXXXXXXXXXXXXXX")
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, ev := range storedEvents(t, s, "acme") {
		if ev["hostname"] != "acme.example.com" {
			t.Fatalf("event %v: hostname changed with the caller's buffer", ev)
		}
	}
}
