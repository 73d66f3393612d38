package logship

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authok-edge/authok/shared/jsonenc"
)

// fieldLimit is each string member's limit (API.md C.11 names).
var fieldLimit = map[string]int{
	"type": MaxFieldBytes, "description": MaxTextBytes, "client_id": MaxFieldBytes,
	"client_name": MaxFieldBytes, "audience": MaxFieldBytes, "scope": MaxScopeBytes,
	"user_id": MaxFieldBytes, "user_name": MaxFieldBytes, "connection": MaxFieldBytes,
	"hostname": MaxFieldBytes, "user_agent": MaxTextBytes,
}

// setField sets the member name of e to v.
func setField(e *Event, name, v string) {
	switch name {
	case "type":
		e.Type = v
	case "description":
		e.Description = v
	case "client_id":
		e.ClientID = v
	case "client_name":
		e.ClientName = v
	case "audience":
		e.Audience = v
	case "scope":
		e.Scope = v
	case "user_id":
		e.UserID = v
	case "user_name":
		e.UserName = v
	case "connection":
		e.Connection = v
	case "hostname":
		e.Hostname = []byte(v)
	case "user_agent":
		e.UserAgent = []byte(v)
	default:
		panic(name)
	}
}

// sanitized is s as a reader decodes it: invalid bytes as U+FFFD.
func sanitized(s string) string {
	var got string
	if err := json.Unmarshal(jsonenc.AppendString(nil, s), &got); err != nil {
		panic(err)
	}
	return got
}

// checkCut reports whether raw, a stored JSON string, is the longest
// prefix of want's that fits limit: valid JSON and UTF-8, at most limit
// bytes between its quotes, decoding to a prefix of want, and cut only if
// the next character would not have fitted.
func checkCut(t *testing.T, what string, raw json.RawMessage, want string, limit int) {
	t.Helper()
	var got string
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Errorf("%s: %v: %s", what, err, raw)
		return
	}
	full := jsonenc.AppendString(nil, want)
	switch {
	case !utf8.Valid(raw):
		t.Errorf("%s is not valid UTF-8", what)
	case len(raw)-2 > limit:
		t.Errorf("%s takes %d bytes, limit %d", what, len(raw)-2, limit)
	case !strings.HasPrefix(sanitized(want), got):
		t.Errorf("%s = %q, not a prefix of %q", what, got, sanitized(want))
	case len(raw) < len(full) && len(raw)-2 <= limit-maxEscape:
		t.Errorf("%s cut at %d bytes, limit %d: more would have fitted", what, len(raw)-2, limit)
	case len(raw) == len(full) && !bytes.Equal(raw, full):
		t.Errorf("%s = %s, want %s", what, raw, full)
	}
}

// Whatever a client sends, each stored field is at most its limit, cut
// between characters, and the event is valid JSON of at most
// MaxEventBytes.
func TestRecordBoundsFields(t *testing.T) {
	rep := strings.Repeat
	for _, tc := range []struct {
		name  string
		value string
	}{
		{"short", "Go-http-client/1.1"},
		{"ascii", rep("a", 20000)},
		{"invalid bytes", rep("\x80", 20000)}, // the probe's client_id=%80...
		{"controls", rep("\x01", 5000)},
		{"quotes", rep(`"\`, 5000)},
		{"line separators", rep("\u2028", 5000)},
		{"euro signs", rep("€", 5000)}, // 3 bytes: the limit falls inside one
		{"4-byte runes", "x" + rep("𝄞", 5000)},
		{"mixed", rep("a\xffé\n\u2029\"\xe2\x82", 3000)},
		{"truncated rune at the limit", rep("a", MaxFieldBytes-1) + "€"},
		{"exactly the limit", rep("a", MaxFieldBytes)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			s, err := New(Config{Store: st})
			if err != nil {
				t.Fatal(err)
			}
			ev := event("acme", 0)
			for name := range fieldLimit {
				setField(ev, name, tc.value)
			}
			ev.Details = []Detail{{"grant_type", "client_credentials"}, {tc.value, tc.value}}
			s.Record(ev)
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			events, err := Events(st, "acme", 10)
			if err != nil || len(events) != 1 {
				t.Fatalf("%d events, %v", len(events), err)
			}
			raw := events[0]
			if !json.Valid(raw) || !utf8.Valid(raw) {
				t.Fatalf("stored event is not valid JSON: %.200q", raw)
			}
			if len(raw) > MaxEventBytes {
				t.Errorf("stored event takes %d bytes, MaxEventBytes %d", len(raw), MaxEventBytes)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			for name, limit := range fieldLimit {
				checkCut(t, name, got[name], tc.value, limit)
			}
			details := rawMembers(t, got["details"])
			if len(details) != 4 || string(details[0]) != `"grant_type"` {
				t.Fatalf("details %s", got["details"])
			}
			checkCut(t, "detail name", details[2], tc.value, MaxFieldBytes)
			checkCut(t, "detail value", details[3], tc.value, MaxTextBytes)
		})
	}
}

// rawMembers is an object's names and values as they are stored.
func rawMembers(t *testing.T, obj []byte) [][]byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s is not an object", obj)
	}
	var out [][]byte
	for dec.More() {
		start := dec.InputOffset()
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		// The comma or colon before a token is read with it.
		out = append(out, bytes.TrimLeft(obj[start:dec.InputOffset()], ",:"))
	}
	return out
}

// MaxEventBytes is exact: an event with every member at its widest takes
// it all, and no event takes more.
func TestMaxEventBytes(t *testing.T) {
	widest := func(fill string) *Event {
		ev := &Event{Tenant: "acme", IP: netip.MustParseAddr("1111:2222:3333:4444:5555:6666:7777:8888")}
		for name := range fieldLimit {
			setField(ev, name, strings.Repeat(fill, 4096))
		}
		for range MaxDetails + 3 {
			ev.Details = append(ev.Details, Detail{strings.Repeat(fill, 4096), strings.Repeat(fill, 4096)})
		}
		return ev
	}
	// The widest date: a 12-digit year before the common era.
	far := time.Date(-100_000_000_000, 12, 31, 23, 59, 59, 999e6, time.UTC)
	id := []byte(strings.Repeat("0", IDLength))
	if n := len(widest("a").appendJSON(nil, id, far)); n != MaxEventBytes {
		t.Errorf("the widest event takes %d bytes, MaxEventBytes is %d", n, MaxEventBytes)
	}
	for _, fill := range []string{"\x80", "\x01", `"`, "\u2028", "€", "𝄞", "a\xffé"} {
		ev := widest(fill)
		if b := ev.appendJSON(nil, id, far); len(b) > MaxEventBytes || !json.Valid(b) {
			t.Errorf("%q: %d bytes (MaxEventBytes %d), valid JSON %v", fill, len(b), MaxEventBytes, json.Valid(b))
		}
		if h := ev.sizeHint(); h > MaxEventBytes {
			t.Errorf("%q: size hint %d above MaxEventBytes", fill, h)
		}
	}
}

// escapedLen counts exactly what jsonenc writes, and appendLimited keeps
// the longest prefix that fits, for random bytes and every limit.
func TestAppendLimited(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "\x00", "\x1f", "\"", "\\", "\n", "\x80", "\xff", "é", "€", "𝄞", "\u2028", "\ufffd", "\xe2\x82", "\xed\xa0\x80"}
	for range 500 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		s := b.String()
		full := jsonenc.AppendString(nil, s)
		n := 0
		for i := 0; i < len(s); {
			w, size := escapedLen(s, i)
			n, i = n+w, i+size
		}
		if n != len(full)-2 {
			t.Fatalf("escapedLen(%q) sums to %d, jsonenc writes %d", s, n, len(full)-2)
		}
		for limit := range len(full) + 1 {
			checkCut(t, "appendLimited", appendLimited(nil, s, limit), s, limit)
			if got := appendLimited(nil, []byte(s), limit); !bytes.Equal(got, appendLimited(nil, s, limit)) {
				t.Fatalf("appendLimited of []byte %q differs from the string's", s)
			}
		}
	}
}

func FuzzAppendLimited(f *testing.F) {
	f.Add("a\xff\"é\u2028𝄞", 7)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 0 || limit > 1<<16 {
			return
		}
		checkCut(t, "appendLimited", appendLimited(nil, s, limit), s, limit)
	})
}

// An IPv6 zone is any string, quotes included: it is left out.
func TestEventIPWithoutZone(t *testing.T) {
	e := &Event{Tenant: "t", IP: netip.MustParseAddr(`fe80::1%"},"x":"\`)}
	b := e.appendJSON(nil, []byte("01ARYZ6S410000000000000000"), date)
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil || got["ip"] != "fe80::1" || len(got) != 5 {
		t.Fatalf("%v: %s", err, b)
	}
}

// The ring is bounded by bytes as by count: filled with wide events it
// drops the oldest, counted like those the count bound drops, and its
// bytes never pass MaxBytes.
func TestByteBoundDropsOldest(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxBytes int
		wide     bool // every field hostile and over its limit
		events   int
	}{
		{"wide events", 4 * MaxEventBytes, true, 100},
		{"wide events, looser bound", 16 * MaxEventBytes, true, 100},
		{"small events, bound at one wide event", MaxEventBytes, false, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			reg := prometheus.NewRegistry()
			s, err := New(Config{Store: st, Capacity: 1024, MaxBytes: tc.maxBytes, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.events {
				ev := event("acme", i)
				if tc.wide {
					for name := range fieldLimit {
						setField(ev, name, strings.Repeat("\x80", 20000))
					}
					ev.UserAgent = bytes.Repeat([]byte("Mozilla/5.0 "), 1024)
				}
				ev.Details = append(ev.Details, Detail{"seq", string(rune('0' + i%10))})
				s.Record(ev)
				if st := s.Stats(); st.BufferedBytes > tc.maxBytes || st.BufferedBytes <= 0 {
					t.Fatalf("after %d events the ring holds %d bytes, bound %d", i+1, st.BufferedBytes, tc.maxBytes)
				}
			}
			stats := s.Stats()
			if stats.Dropped == 0 || stats.Dropped+uint64(stats.Buffered) != uint64(tc.events) {
				t.Errorf("stats %+v: want some of %d dropped and the rest buffered", stats, tc.events)
			}
			if v := counterValue(t, reg, "authok_logship_events_dropped_total"); v != float64(stats.Dropped) {
				t.Errorf("dropped metric = %v, want %d", v, stats.Dropped)
			}
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := s.Stats(); st.BufferedBytes != 0 || st.Buffered != 0 {
				t.Errorf("after Close: %+v", st)
			}
			// The newest were kept, in order.
			events, err := Events(st, "acme", tc.events)
			if err != nil || len(events) != stats.Buffered {
				t.Fatalf("%d stored (%v), want %d", len(events), err, stats.Buffered)
			}
			for j, raw := range events {
				var ev struct{ Details map[string]string }
				json.Unmarshal(raw, &ev)
				if want := string(rune('0' + (int(stats.Dropped)+j)%10)); ev.Details["seq"] != want {
					t.Fatalf("stored event %d has seq %q, want %s (the newest kept)", j, ev.Details["seq"], want)
				}
			}
		})
	}
}

// A small event evicts no more than it needs, and shipping frees its
// bytes.
func TestByteBoundAccounting(t *testing.T) {
	st := openStore(t)
	s, err := New(Config{Store: st, MaxBytes: MaxEventBytes})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		s.Record(event("acme", i))
	}
	if st := s.Stats(); st.Dropped != 0 || st.Buffered != 10 || st.BufferedBytes > 10*1024 {
		t.Fatalf("ten small events: %+v", st)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.BufferedBytes != 0 || st.Shipped != 10 {
		t.Fatalf("after Flush: %+v", st)
	}
}

func TestConfigValidateMaxBytes(t *testing.T) {
	for _, tc := range []struct {
		maxBytes int
		ok       bool
	}{
		{0, true}, {MaxEventBytes, true}, {DefaultMaxBytes, true},
		{-1, false}, {MaxEventBytes - 1, false},
	} {
		err := Config{Store: openStore(t), MaxBytes: tc.maxBytes}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("MaxBytes %d: err = %v", tc.maxBytes, err)
		}
	}
}
