package logship

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authok-edge/authok/shared/model"
)

// Details a summary event carries (see doc.go, "Aggregation").
const (
	// DetailCount is the number of events a summary stands for, in decimal.
	DetailCount = "aggregated_count"
	// DetailFirstDate is the date of the first of them (the summary's own
	// date is the last one's).
	DetailFirstDate = "aggregated_first_date"
	// DetailKey is the aggregation key, or OverflowKey for a tenant's
	// catch-all.
	DetailKey = "aggregated_key"
	// OverflowKey marks the summary of a tenant's catch-all: events of
	// keys beyond Config.AggregateKeys in one window, of any key.
	OverflowKey = "*"
)

// aggKey names what is aggregated: a tenant's events of one type and key
// (key is OverflowKey for the tenant's catch-all).
type aggKey struct{ tenant, typ, key string }

// aggCount is what a window counted for one key.
type aggCount struct {
	n           uint64 // events counted and not recorded
	first, last time.Time
	sample      Event // a copy of the first counted event; only Type for a catch-all
}

// aggregator counts the events of the same aggregation key within a window
// instead of recording each (see doc.go). Its memory is bounded: at most
// maxKeys keys per window, each holding one event cut to its limits,
// plus one catch-all per tenant and type.
type aggregator struct {
	window  time.Duration
	maxKeys int

	mu       sync.Mutex
	start    time.Time // the open window's start; zero when none is open
	keys     map[aggKey]*aggCount
	overflow map[aggKey]*aggCount
}

func newAggregator(window time.Duration, maxKeys int) *aggregator {
	return &aggregator{window: window, maxKeys: maxKeys}
}

// admit decides for an event with an aggregation key, dated date: record
// reports whether to record it individually (the first of its key in the
// window). Summaries of a window that ended before date are returned, to
// be recorded by the caller.
func (a *aggregator) admit(e *Event, date time.Time) (record bool, summaries []Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	summaries = a.rollLocked(date, false)
	if a.start.IsZero() {
		a.start = date
		a.keys = make(map[aggKey]*aggCount)
		a.overflow = make(map[aggKey]*aggCount)
	}
	// The key as stored: type and key cut as an event would keep them.
	k := aggKey{e.Tenant, e.Type[:min(len(e.Type), MaxFieldBytes)], e.Aggregate[:min(len(e.Aggregate), MaxFieldBytes)]}
	if c, ok := a.keys[k]; ok {
		c.count(e, date, false)
		return false, summaries
	}
	if len(a.keys) < a.maxKeys {
		// The map keeps its key: own its strings (a caller's may alias
		// buffers it reuses), cut to what an event would keep.
		k = aggKey{strings.Clone(k.tenant), strings.Clone(k.typ), strings.Clone(k.key)}
		a.keys[k] = &aggCount{}
		return true, summaries
	}
	// Full: every further key of the window goes to its tenant's catch-all.
	k.key = OverflowKey
	c := a.overflow[k]
	if c == nil {
		k = aggKey{strings.Clone(k.tenant), strings.Clone(k.typ), OverflowKey}
		c = &aggCount{}
		a.overflow[k] = c
	}
	c.count(e, date, true)
	return false, summaries
}

// count adds e to c; a catch-all keeps only its type.
func (c *aggCount) count(e *Event, date time.Time, overflow bool) {
	if c.n == 0 {
		c.first = date
		if overflow {
			c.sample = Event{Type: e.Type, Description: "events of more distinct kinds than the log aggregator tracks in one window"}
		} else {
			c.sample = cloneEvent(e)
		}
	}
	c.n++
	if date.After(c.last) {
		c.last = date
	}
}

// roll closes the window if it ended at now (or at once when force),
// returning its summaries.
func (a *aggregator) roll(now time.Time, force bool) []Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rollLocked(now, force)
}

func (a *aggregator) rollLocked(now time.Time, force bool) []Event {
	if a.start.IsZero() || (!force && now.Before(a.start.Add(a.window))) {
		return nil
	}
	var out []Event
	for _, m := range []map[aggKey]*aggCount{a.keys, a.overflow} {
		for k, c := range m {
			if c.n > 0 {
				out = append(out, c.summary(k))
			}
		}
	}
	a.start, a.keys, a.overflow = time.Time{}, nil, nil
	return out
}

// summary is the event that stands for c's events.
func (c *aggCount) summary(k aggKey) Event {
	e := c.sample
	e.Tenant, e.Date, e.Aggregate = k.tenant, c.last, ""
	details := make([]Detail, 0, 3+len(e.Details))
	details = append(details,
		Detail{DetailCount, strconv.FormatUint(c.n, 10)},
		Detail{DetailFirstDate, c.first.UTC().Format(model.TimeLayout)},
		Detail{DetailKey, k.key})
	e.Details = append(details, e.Details...)
	return e
}

// cloneEvent copies e into memory of its own, every field cut to the
// bytes its JSON could keep (a bound on memory; appendJSON cuts exactly).
func cloneEvent(e *Event) Event {
	c := Event{
		Tenant: e.Tenant, Type: cutString(e.Type, MaxFieldBytes),
		Description: cutString(e.Description, MaxTextBytes),
		ClientID:    cutString(e.ClientID, MaxFieldBytes), ClientName: cutString(e.ClientName, MaxFieldBytes),
		Audience: cutString(e.Audience, MaxFieldBytes), Scope: cutString(e.Scope, MaxScopeBytes),
		UserID: cutString(e.UserID, MaxFieldBytes), UserName: cutString(e.UserName, MaxFieldBytes),
		Connection: cutString(e.Connection, MaxFieldBytes), IP: e.IP,
		Hostname:  []byte(cutString(string(e.Hostname[:min(len(e.Hostname), MaxFieldBytes)]), MaxFieldBytes)),
		UserAgent: []byte(cutString(string(e.UserAgent[:min(len(e.UserAgent), MaxTextBytes)]), MaxTextBytes)),
	}
	if n := min(len(e.Details), MaxDetails); n > 0 {
		c.Details = make([]Detail, n)
		for i, d := range e.Details[:n] {
			c.Details[i] = Detail{cutString(d.Name, MaxFieldBytes), cutString(d.Value, MaxTextBytes)}
		}
	}
	return c
}

// cutString is a copy of at most limit bytes of s (a JSON string of s is
// never shorter than s, so nothing the event would keep is lost).
func cutString(s string, limit int) string {
	return strings.Clone(s[:min(len(s), limit)])
}
