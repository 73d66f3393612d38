package token

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/shared/logship"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
)

// floodClock is the clock of the handler and the shipper, moved by the test.
type floodClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *floodClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *floodClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// floodEnv is the shared fixture with a handler whose log shipper has the
// test's clock and quota.
func floodEnv(t *testing.T, quota int64) (*env, *Handler, *logship.Shipper, *floodClock) {
	t.Helper()
	e := newEnv(t, envOptions{host: "acme.test"})
	// Recent, so that the store does not hide the events as expired.
	clk := &floodClock{now: time.Now().UTC().Truncate(time.Second).Add(-6 * time.Hour)}
	logs, err := logship.New(logship.Config{Store: e.st, Now: clk.Now, QuotaBytes: quota, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Directory: e.dir, Store: e.applier, Logs: logs, Logger: discard, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e, h, logs, clk
}

// serveForm runs one token request through h, as the edge server would.
func serveForm(h *Handler, host string, form url.Values) int {
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI("/oauth/token")
	req.Header.SetHost(host)
	req.Header.SetContentType("application/x-www-form-urlencoded")
	req.SetBodyString(form.Encode())
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4711}, nil)
	h.Serve(&ctx)
	return ctx.Response.StatusCode()
}

type storedLog struct {
	bytes  int64
	events []map[string]any
}

func readLog(t *testing.T, st store.Store, tenant string) storedLog {
	t.Helper()
	out := storedLog{bytes: storetest.PrefixBytes(t, st, repo.LogPrefix(tenant))}
	raw, err := logship.Events(st, tenant, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range raw {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatal(err)
		}
		out.events = append(out.events, m)
	}
	return out
}

func detailsOf(ev map[string]any) map[string]any { d, _ := ev["details"].(map[string]any); return d }

// A flood of anonymous failures (unknown client_ids, no credentials at all)
// through the real handler and shipper into a real store: the stored events
// grow by two per window (the first failure and a summary with the count
// of the rest), not one per request, and the tenant's stored log never
// exceeds its quota, the oldest dropped first and the newest kept.
func TestAnonymousFailureFloodIsBounded(t *testing.T) {
	const (
		quota     = 12 << 10
		windows   = 60
		perWindow = 50
	)
	e, h, logs, clk := floodEnv(t, quota)
	ctx := context.Background()
	firstKept := 0 // the oldest window whose events are still stored
	for w := range windows {
		for i := range perWindow {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {fmt.Sprintf("anon-%d-%d", w, i)}, "client_secret": {"guess"}}
			if i%10 == 9 {
				form = url.Values{"grant_type": {"client_credentials"}} // no credentials at all
			}
			if status := serveForm(h, e.host, form); status != 401 {
				t.Fatalf("window %d request %d: status %d, want 401", w, i, status)
			}
			clk.Add(100 * time.Millisecond)
		}
		clk.Add(logship.DefaultAggregateWindow) // the window ends
		if err := logs.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		log := readLog(t, e.st, tenantName)
		if log.bytes > quota {
			t.Fatalf("after window %d the tenant's log takes %d bytes, over its quota %d", w, log.bytes, quota)
		}
		// Two events per window, shipped as one batch per window: the
		// quota drops whole batches, so whole windows, oldest first.
		if len(log.events) > 2*(w+1) || len(log.events)%2 != 0 {
			t.Fatalf("after window %d, %d events stored; want two per window kept", w, len(log.events))
		}
		kept := len(log.events) / 2
		if w+1-kept < firstKept {
			t.Fatalf("after window %d, an older window came back", w)
		}
		firstKept = w + 1 - kept
		for k := range kept {
			first, sum := log.events[2*k], log.events[2*k+1]
			win := firstKept + k
			if first["client_id"] != fmt.Sprintf("anon-%d-0", win) || detailsOf(first)[logship.DetailCount] != nil {
				t.Fatalf("after window %d, event %d = %v; want window %d's first failure, one by one", w, 2*k, first, win)
			}
			d := detailsOf(sum)
			if sum["client_id"] != fmt.Sprintf("anon-%d-1", win) || d[logship.DetailCount] != fmt.Sprint(perWindow-1) ||
				d[logship.DetailKey] != "invalid_client" || sum["type"] != logship.TypeExchangeFailed {
				t.Fatalf("after window %d, event %d = %v; want window %d's summary of %d failures", w, 2*k+1, sum, win, perWindow-1)
			}
		}
	}
	if firstKept == 0 {
		t.Fatalf("after %d windows nothing was dropped: the quota was never reached, the test proves nothing", windows)
	}
	if st := logs.Stats(); st.Aggregated != windows*(perWindow-1) || st.Recorded != 2*windows {
		t.Fatalf("stats %+v: want %d aggregated, %d recorded", st, windows*(perWindow-1), 2*windows)
	}
}

// Failures of a client that exists stay one event each (its tenant wants
// every one); a Host no tenant serves records nothing.
func TestKnownClientFailuresAreNotAggregated(t *testing.T) {
	e, h, logs, clk := floodEnv(t, 0)
	for range 5 {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {postID}, "client_secret": {"wrong"}, "audience": {apiThings}}
		if status := serveForm(h, e.host, form); status != 401 {
			t.Fatalf("status %d, want 401", status)
		}
	}
	for range 5 {
		if status := serveForm(h, "nobody.test", url.Values{"grant_type": {"client_credentials"}, "client_id": {"x"}}); status != 400 {
			t.Fatalf("unknown host: status %d, want 400", status)
		}
	}
	clk.Add(logship.DefaultAggregateWindow)
	if err := logs.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	log := readLog(t, e.st, tenantName)
	if len(log.events) != 5 {
		t.Fatalf("%d events stored, want the 5 failures of %s one by one", len(log.events), postID)
	}
	for _, ev := range log.events {
		if ev["client_id"] != postID || detailsOf(ev)[logship.DetailCount] != nil || !strings.Contains(fmt.Sprint(ev["description"]), "secret") {
			t.Fatalf("event %v: want %s's own failure", ev, postID)
		}
	}
	if st := logs.Stats(); st.Recorded != 5 || st.Aggregated != 0 {
		t.Fatalf("stats %+v: want 5 recorded, none aggregated, nothing for the unknown host", st)
	}
}
