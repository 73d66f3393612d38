package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

var (
	authSecret = []byte("0123456789abcdef0123456789abcdef")
	authT0     = time.Unix(1_700_000_000, 0)
)

func testNonce(b byte) [nonceLen]byte {
	var n [nonceLen]byte
	for i := range n {
		n[i] = b
	}
	return n
}

// signedWire signs a request to url as callInternal does and returns the
// bytes that go on the wire.
func signedWire(t *testing.T, method, url string, body []byte, now time.Time, nonce [nonceLen]byte) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	signRequestWith(req, authSecret, body, now, nonce)
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// received is the request a server reads from raw.
func received(t *testing.T, raw []byte) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkVerdict fails t unless err is nil (refused == "") or its text
// contains refused.
func checkVerdict(t *testing.T, err error, refused string) {
	t.Helper()
	switch {
	case refused == "" && err != nil:
		t.Fatalf("refused: %v", err)
	case refused != "" && err == nil:
		t.Fatalf("accepted, want refused with %q", refused)
	case refused != "" && !strings.Contains(err.Error(), refused):
		t.Fatalf("refused with %q, want %q", err, refused)
	}
}

const (
	notSigned = "without a valid cluster signature"
	notNow    = "outside the accepted time window"
	replayed  = "replayed"
)

func TestVerifyRequest(t *testing.T) {
	const url = "http://node-a.example:9001/internal/v1/store/apply"
	body := []byte("txn")
	nonce := testNonce(0xab)
	tests := []struct {
		name    string
		edit    func(r *http.Request) // what a misroute or an attacker changes
		at      time.Duration         // when the receiver verifies, after signing
		secret  []byte                // the receiver's; default authSecret
		refused string                // "" when accepted
	}{
		{name: "as signed"},
		{name: "host in other case", edit: func(r *http.Request) { r.Host = "Node-A.Example:9001" }},
		{name: "at the edge of the window", at: clockSkew},
		{name: "signed ahead within the window", at: -clockSkew},
		{name: "presented to another host", edit: func(r *http.Request) { r.Host = "node-b.example:9001" }, refused: notSigned},
		{name: "presented to another port", edit: func(r *http.Request) { r.Host = "node-a.example:9002" }, refused: notSigned},
		{name: "expired", at: clockSkew + time.Second, refused: notNow},
		{name: "from the future", at: -clockSkew - time.Second, refused: notNow},
		{name: "tampered nonce", edit: editAuth("nonce="+strings.Repeat("ab", nonceLen), "nonce="+strings.Repeat("ac", nonceLen)), refused: notSigned},
		{name: "nonce in upper case", edit: editAuth("nonce="+strings.Repeat("ab", nonceLen), "nonce="+strings.Repeat("AB", nonceLen)), refused: notSigned},
		{name: "nonce not hex", edit: editAuth("nonce="+strings.Repeat("ab", nonceLen), "nonce="+strings.Repeat("zz", nonceLen)), refused: notSigned},
		{name: "nonce too short", edit: editAuth("nonce="+strings.Repeat("ab", nonceLen), "nonce=abab"), refused: notSigned},
		{name: "no nonce (previous format)", edit: editAuth(",nonce="+strings.Repeat("ab", nonceLen), ""), refused: notSigned},
		{name: "tampered timestamp", edit: editAuth("ts=1700000000", "ts=1700000001"), refused: notSigned},
		{name: "tampered body", edit: func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader("TXN")) }, refused: notSigned},
		{name: "tampered path", edit: func(r *http.Request) { r.URL.Path = "/internal/v1/cluster/remove" }, refused: notSigned},
		{name: "tampered method", edit: func(r *http.Request) { r.Method = http.MethodPut }, refused: notSigned},
		{name: "no signature", edit: func(r *http.Request) { r.Header.Del("Authorization") }, refused: notSigned},
		{name: "other secret", secret: []byte("another secret of the same size!"), refused: notSigned},
	}
	raw := signedWire(t, http.MethodPost, url, body, authT0, nonce)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := received(t, raw)
			if tc.edit != nil {
				tc.edit(r)
			}
			secret := authSecret
			if tc.secret != nil {
				secret = tc.secret
			}
			seen := newNonceCache(maxNonces)
			got, err := verifyRequestOnce(r, secret, authT0.Add(tc.at), seen)
			checkVerdict(t, err, tc.refused)
			if err == nil && !bytes.Equal(got, body) {
				t.Fatalf("body = %q, want %q", got, body)
			}
			// Only an accepted request takes a place in the replay cache:
			// unverified ones cannot fill it.
			if want := map[bool]int{true: 1, false: 0}[err == nil]; seen.size() != want {
				t.Fatalf("replay cache holds %d nonces, want %d", seen.size(), want)
			}
		})
	}
}

// editAuth replaces old with repl in the Authorization header.
func editAuth(old, repl string) func(r *http.Request) {
	return func(r *http.Request) {
		h := r.Header.Get("Authorization")
		if !strings.Contains(h, old) {
			panic("editAuth: " + old + " not in " + h)
		}
		r.Header.Set("Authorization", strings.Replace(h, old, repl, 1))
	}
}

func TestVerifyRequestRefusesReplay(t *testing.T) {
	const url = "http://node-a.example:9001/internal/v1/cluster/remove"
	body := []byte(`{"node_id":"e1"}`)
	raw := signedWire(t, http.MethodPost, url, body, authT0, testNonce(1))
	seen := newNonceCache(maxNonces)
	steps := []struct {
		name    string
		at      time.Duration
		refused string
	}{
		{"first delivery", time.Second, ""},
		{"replayed at once", time.Second, replayed},
		{"replayed late in the window", clockSkew, replayed},
		{"replayed after the window", clockSkew + time.Second, notNow},
		{"replayed long after", time.Hour, notNow},
	}
	for _, s := range steps { // in order, on one cache
		t.Run(s.name, func(t *testing.T) {
			_, err := verifyRequestOnce(received(t, raw), authSecret, authT0.Add(s.at), seen)
			checkVerdict(t, err, s.refused)
		})
	}
	// A request signed again (fresh nonce) for the same operation is a new
	// request, as when callInternal retries.
	again := signedWire(t, http.MethodPost, url, body, authT0, testNonce(2))
	if _, err := verifyRequestOnce(received(t, again), authSecret, authT0.Add(time.Second), newNonceCache(maxNonces)); err != nil {
		t.Fatalf("re-signed request: %v", err)
	}
}

func TestSignRequestUsesFreshNonces(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		req, _ := http.NewRequest(http.MethodGet, "http://node-a.example:9001/internal/v1/status", nil)
		signRequest(req, authSecret, nil, authT0)
		_, nonce, _, ok := parseAuthorization(req.Header.Get("Authorization"))
		if !ok {
			t.Fatalf("unparsable header %q", req.Header.Get("Authorization"))
		}
		if seen[nonce] {
			t.Fatalf("nonce %s used twice", nonce)
		}
		seen[nonce] = true
	}
}

// The cache must remember a nonce for as long as the timestamp check would
// let its request through, whatever the timestamp within the window and
// whenever the pruning runs.
func TestReplayCacheKeepsNonceWhileTimestampValid(t *testing.T) {
	skew := int64(clockSkew / time.Second)
	for offset := -skew; offset <= skew; offset++ {
		ts := authT0.Unix() + offset
		seen := newNonceCache(maxNonces)
		if err := seen.claim(testNonce(1), ts, authT0); err != nil {
			t.Fatal(err)
		}
		i := 0
		for at := authT0; at.Sub(time.Unix(ts, 0)) <= clockSkew; at = at.Add(500 * time.Millisecond) {
			// Another request at this time runs the pruning first.
			i++
			other := testNonce(2)
			other[0], other[1] = byte(i), byte(i>>8)
			if err := seen.claim(other, at.Unix(), at); err != nil {
				t.Fatal(err)
			}
			if err := seen.claim(testNonce(1), ts, at); !errors.Is(err, errReplayed) {
				t.Fatalf("signed at %+ds, checked %s later: %v, want errReplayed", offset, at.Sub(time.Unix(ts, 0)), err)
			}
		}
	}
}

func TestReplayCacheForgetsExpiredNonces(t *testing.T) {
	seen := newNonceCache(maxNonces)
	for i := range 10 {
		if err := seen.claim(testNonce(byte(i)), authT0.Unix(), authT0); err != nil {
			t.Fatal(err)
		}
	}
	if seen.size() != 10 {
		t.Fatalf("size = %d, want 10", seen.size())
	}
	later := authT0.Add(clockSkew + nonceGeneration*time.Second + time.Second)
	if err := seen.claim(testNonce(0xff), later.Unix(), later); err != nil {
		t.Fatal(err)
	}
	if seen.size() != 1 {
		t.Fatalf("size after the window = %d, want 1 (the expired nonces dropped)", seen.size())
	}
}

func TestReplayCacheFullRefusesRatherThanForgets(t *testing.T) {
	seen := newNonceCache(2)
	steps := []struct {
		name  string
		nonce byte
		at    time.Duration
		want  error
	}{
		{"first", 1, 0, nil},
		{"second", 2, time.Second, nil},
		{"third: full", 3, 2 * time.Second, errNonceCacheFull},
		{"first replayed: still remembered", 1, 3 * time.Second, errReplayed},
		{"third after the first two expired", 3, clockSkew + 2*nonceGeneration*time.Second, nil},
	}
	for _, s := range steps {
		now := authT0.Add(s.at)
		err := seen.claim(testNonce(s.nonce), now.Unix(), now)
		if !errors.Is(err, s.want) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
	}
}

func TestVerifyRequestConcurrentReplays(t *testing.T) {
	raw := signedWire(t, http.MethodPost, "http://node-a.example:9001/internal/v1/store/apply", []byte("txn"), authT0, testNonce(7))
	seen := newNonceCache(maxNonces)
	var accepted, replays atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		r := received(t, raw)
		wg.Go(func() {
			_, err := verifyRequestOnce(r, authSecret, authT0, seen)
			switch {
			case err == nil:
				accepted.Add(1)
			case errors.Is(err, errReplayed):
				replays.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if accepted.Load() != 1 || replays.Load() != 31 {
		t.Fatalf("accepted %d, refused as replays %d; want 1 and 31", accepted.Load(), replays.Load())
	}
}

// openAuthNode opens a single-node cluster (bootstrapped, in-memory
// transport) whose internal handler checks authSecret, closed when the
// test ends.
func openAuthNode(t *testing.T) *Node {
	t.Helper()
	_, trans := raft.NewInmemTransport("")
	n, err := OpenNode(Config{
		NodeID: "n1", DataDir: t.TempDir(), Bootstrap: true, Transport: trans,
		ClusterSecret: authSecret, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// A forwarded write captured on the wire and sent again, to the node it was
// addressed to or to another address, is refused, and the key's version
// does not move.
func TestInternalHandlerRefusesReplayedApply(t *testing.T) {
	n := openAuthNode(t)
	deadline := time.Now().Add(10 * time.Second)
	for !n.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("no leader within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// What crossed the wire: the request line, headers and body as the node
	// received them.
	type capture struct {
		method, path, host string
		header             http.Header
		body               []byte
	}
	captured := make(chan capture, 1)
	h := n.InternalHandler()
	tap := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case captured <- capture{r.Method, r.URL.Path, r.Host, r.Header.Clone(), body}:
		default:
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
	nodeSrv := httptest.NewServer(tap)
	defer nodeSrv.Close()
	otherSrv := httptest.NewServer(h) // the same node at another address
	defer otherSrv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := []byte("replay/key")
	var ans applyAnswer
	txn := appendTxn(nil, Txn{Ops: []Op{Put(key, []byte("v"))}})
	if err := callInternal(ctx, nodeSrv.Client(), authSecret, http.MethodPost, nodeSrv.URL+"/internal/v1/store/apply", txn, &ans); err != nil {
		t.Fatal(err)
	}
	c := <-captured
	version := func() uint64 {
		t.Helper()
		it, err := n.Get(key)
		if err != nil {
			t.Fatal(err)
		}
		return it.Version
	}
	if v := version(); v != ans.Index || v == 0 {
		t.Fatalf("version after the write = %d, want %d", v, ans.Index)
	}

	replay := func(base string, host string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, bytes.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = c.header.Clone()
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name    string
		base    string
		host    string // Host header; "" = the target's address
		refused string
	}{
		{"to the same node", nodeSrv.URL, c.host, replayed},
		{"again to the same node", nodeSrv.URL, c.host, replayed},
		{"to another address", otherSrv.URL, "", notSigned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := replay(tc.base, tc.host)
			if status != http.StatusUnauthorized || !strings.Contains(body, tc.refused) {
				t.Fatalf("replay answered %d %s, want 401 with %q", status, body, tc.refused)
			}
			if v := version(); v != ans.Index {
				t.Fatalf("version moved from %d to %d: the replay was applied", ans.Index, v)
			}
		})
	}

	// The same write signed afresh is accepted: the refusals above were the
	// replay's, not the write's.
	if err := callInternal(ctx, nodeSrv.Client(), authSecret, http.MethodPost, nodeSrv.URL+"/internal/v1/store/apply", txn, &ans); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != ans.Index {
		t.Fatalf("version after the second write = %d, want %d", v, ans.Index)
	}
}
