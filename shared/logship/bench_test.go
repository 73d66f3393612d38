package logship

import "testing"

// BenchmarkRecord is Record of a token endpoint's usual event (tens of
// bytes per field), the ring never full for long: the hot path's share.
func BenchmarkRecord(b *testing.B) {
	s, err := New(Config{Store: applierFunc(nil), Capacity: 1 << 12, QuotaBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	ev := event("acme", 0)
	b.ReportAllocs()
	for b.Loop() {
		s.Record(ev)
	}
}

// BenchmarkRecordOversized is Record of the hostile event: a 20,000-byte
// invalid UTF-8 client_id and a 12 KiB user agent.
func BenchmarkRecordOversized(b *testing.B) {
	s, err := New(Config{Store: applierFunc(nil), Capacity: 1 << 12, QuotaBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	ev := event("acme", 0)
	ev.ClientID = string(make80(20000))
	ev.UserAgent = make80(12 << 10)
	b.ReportAllocs()
	for b.Loop() {
		s.Record(ev)
	}
}

func make80(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0x80
	}
	return b
}
