package store

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Internal HTTP calls between nodes (forwarded writes, joins, removes,
// status, member listings) are signed with the cluster secret:
// HMAC-SHA256 over the method, the Host the request is sent to, the path, a
// timestamp, a random nonce and the body's hash, in the header
//
//	Authorization: AuthokCluster ts=<unix seconds>,nonce=<32 hex>,sig=<hex>
//
// A signature is accepted for clockSkew either side of the receiver's clock,
// and only once: the receiver remembers each nonce it accepted until the
// request's timestamp leaves that window, and refuses a nonce it has seen
// (a captured request replayed to the node it was sent to). The Host is
// signed, so a request that arrives under another name than the one it was
// signed for is refused. Every signer (callInternal, the relay of a join or
// remove to the leader) signs each request it sends afresh, so a legitimate
// request is verified once, by the node it is addressed to.
//
// What the signature does not cover, and TLS between nodes (https URLs)
// does:
//   - The receiver checks that the Host header matches the signature, not
//     that it names this node: verifyRequest is not told the node's names
//     (InternalHandler would pass them). Someone who captured a request can
//     send it, Host header unchanged, to another node's address within the
//     window; that node has not seen the nonce.
//   - The nonces live in memory: a node restarted within clockSkew of a
//     captured request accepts it once more. So does one whose wall clock
//     is stepped back after it forgot the nonce.
//   - Nothing is hidden: the signature authenticates a request, it does not
//     encrypt it.
//
// The header's form and its timestamp are checked before the body is read:
// a caller without a current signature header is refused (401) without
// the node reading up to MaxInternalBody for it. The 401 says the
// timestamp is outside the window, never by how much (that is this node's
// clock, told to an unauthenticated caller); the node logs the offset.
//
// The replay cache holds at most maxNonces nonces, about 25 MB: a sustained
// ~14,000 internal requests a second (a nonce is kept clockSkew plus up to
// nonceGeneration seconds), about what a leader applies at most. When it is
// full, requests with a valid signature are refused (errNonceCacheFull, a
// 401 like every verification failure) until old nonces expire: a nonce is
// never forgotten while its timestamp can still be accepted, so a full
// cache costs availability, never a replay. Requests whose signature does
// not verify are refused before they reach the cache and use none of it.
const (
	clusterAuthScheme = "AuthokCluster"
	clockSkew         = 60 * time.Second
	// MaxInternalBody bounds an internal request body (a forwarded transaction).
	MaxInternalBody = 32 << 20

	// signatureVersion separates this message layout from the one before
	// nonces and hosts were signed.
	signatureVersion = "v2"
	nonceLen         = 16
	maxNonces        = 1 << 20
	// nonceGeneration is the width, in seconds of expiry, of one set of the
	// replay cache: a set is dropped whole once all its nonces expired, so
	// pruning costs nothing per nonce and a nonce is kept at most this much
	// longer than needed.
	nonceGeneration = 15
)

func signature(secret []byte, method, host, path string, ts int64, nonce string, body []byte) string {
	sum := sha256.Sum256(body)
	h := hmac.New(sha256.New, secret)
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%d\n%s\n%x", signatureVersion, method, host, path, ts, nonce, sum)
	return hex.EncodeToString(h.Sum(nil))
}

// requestHost is the host a request is sent to (on the client) or arrived
// with (on the server), as it travels in the Host header: net/http sends
// r.Host, else r.URL.Host, without an IPv6 zone. Host names are compared
// case-insensitively (fasthttp, which serves the edge's internal API,
// lowercases them). Non-ASCII host names are not supported: net/http sends
// them in punycode.
func requestHost(r *http.Request) string {
	h := r.Host
	if h == "" {
		h = r.URL.Host
	}
	return strings.ToLower(removeZone(h))
}

// removeZone strips the zone of an IPv6 literal ("[fe80::1%en0]:80"), as
// net/http does before it writes the Host header.
func removeZone(host string) string {
	if !strings.HasPrefix(host, "[") {
		return host
	}
	i := strings.LastIndex(host, "]")
	if i < 0 {
		return host
	}
	j := strings.LastIndex(host[:i], "%")
	if j < 0 {
		return host
	}
	return host[:j] + host[i:]
}

// signRequest sets the Authorization header of an internal request, with a
// fresh nonce. Sign each request sent, retries and relays included: a
// receiver accepts a signature once.
func signRequest(r *http.Request, secret, body []byte, now time.Time) {
	var nonce [nonceLen]byte
	rand.Read(nonce[:]) // never fails: crypto/rand crashes the program instead
	signRequestWith(r, secret, body, now, nonce)
}

// signRequestWith is signRequest with the nonce chosen by the caller (tests).
func signRequestWith(r *http.Request, secret, body []byte, now time.Time, nonce [nonceLen]byte) {
	ts := now.Unix()
	n := hex.EncodeToString(nonce[:])
	sig := signature(secret, r.Method, requestHost(r), r.URL.EscapedPath(), ts, n, body)
	r.Header.Set("Authorization", clusterAuthScheme+" ts="+strconv.FormatInt(ts, 10)+",nonce="+n+",sig="+sig)
}

var (
	errUnsigned       = errors.New("store: internal request without a valid cluster signature")
	errReplayed       = errors.New("store: internal request replayed (its nonce was already accepted)")
	errNonceCacheFull = errors.New("store: internal request refused: replay cache full")
)

// staleError refuses a signature whose timestamp is outside the clockSkew
// window. Its text does not give the offset (a 401 body must not tell an
// unauthenticated caller this node's clock); Offset is for the node's own
// log.
type staleError struct{ Offset time.Duration }

func (e *staleError) Error() string {
	return "store: internal request signed outside the accepted time window of this node's clock"
}

// internalNonces is the replay cache of this process. It is shared by the
// nodes of one process (tests, dev), which is harmless: nonces are random and
// each request is verified by one node.
var internalNonces = newNonceCache(maxNonces)

// verifyRequest checks the signature header's form and time window,
// then reads the body (bounded), checks the signature and that it was not
// accepted before.
func verifyRequest(r *http.Request, secret []byte, now time.Time) ([]byte, error) {
	return verifyRequestOnce(r, secret, now, internalNonces)
}

func verifyRequestOnce(r *http.Request, secret []byte, now time.Time, seen *nonceCache) ([]byte, error) {
	// Everything that needs no body is checked before the body is read: a
	// caller without a well-formed, current header gets its 401 for the
	// price of the header, not of up to MaxInternalBody bytes.
	// The header's strings may alias the server's buffers (fasthttpadaptor):
	// only the decoded nonce, a copy, outlives the call.
	ts, nonceHex, sig, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return nil, errUnsigned
	}
	var nonce [nonceLen]byte
	if _, err := hex.Decode(nonce[:], []byte(nonceHex)); err != nil {
		return nil, errUnsigned
	}
	if d := now.Sub(time.Unix(ts, 0)); d > clockSkew || d < -clockSkew {
		return nil, &staleError{Offset: d}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxInternalBody+1))
	if err != nil {
		return nil, fmt.Errorf("store: read internal request: %w", err)
	}
	if len(body) > MaxInternalBody {
		return nil, fmt.Errorf("store: internal request body exceeds %d bytes", MaxInternalBody)
	}
	want := signature(secret, r.Method, requestHost(r), r.URL.EscapedPath(), ts, nonceHex, body)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return nil, errUnsigned
	}
	if err := seen.claim(nonce, ts, now); err != nil {
		return nil, err
	}
	return body, nil
}

// parseAuthorization splits "AuthokCluster ts=..,nonce=..,sig=..".
func parseAuthorization(h string) (ts int64, nonce, sig string, ok bool) {
	rest, ok := strings.CutPrefix(h, clusterAuthScheme+" ts=")
	if !ok {
		return 0, "", "", false
	}
	tsPart, rest, ok := strings.Cut(rest, ",nonce=")
	if !ok {
		return 0, "", "", false
	}
	nonce, sig, ok = strings.Cut(rest, ",sig=")
	if !ok || len(nonce) != 2*nonceLen {
		return 0, "", "", false
	}
	ts, err := strconv.ParseInt(tsPart, 10, 64)
	if err != nil {
		return 0, "", "", false
	}
	return ts, nonce, sig, true
}

// nonceCache remembers the nonces of accepted internal requests until their
// timestamps leave the clockSkew window. Nonces are kept in sets by
// expiry (nonceGeneration seconds wide); a lookup checks the few live sets
// and pruning drops expired sets whole.
type nonceCache struct {
	limit int

	mu   sync.Mutex
	n    int                                   // nonces held
	sets map[int64]map[[nonceLen]byte]struct{} // expiry / nonceGeneration → nonces
}

func newNonceCache(limit int) *nonceCache {
	return &nonceCache{limit: limit, sets: make(map[int64]map[[nonceLen]byte]struct{})}
}

// claim records nonce, signed at ts and accepted at now. It fails with
// errReplayed if the nonce was recorded before, and with errNonceCacheFull
// if recording it would exceed the cache's bound. The caller has checked
// that ts is within clockSkew of now.
func (c *nonceCache) claim(nonce [nonceLen]byte, ts int64, now time.Time) error {
	// The last second at which the timestamp check still accepts ts.
	expires := ts + int64(clockSkew/time.Second)
	t := now.Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	for gen, set := range c.sets {
		if (gen+1)*nonceGeneration <= t {
			// Every nonce here expires before t: a request carrying one is
			// refused for its timestamp, so forgetting it is safe.
			c.n -= len(set)
			delete(c.sets, gen)
			continue
		}
		if _, ok := set[nonce]; ok {
			return errReplayed
		}
	}
	if c.n >= c.limit {
		return fmt.Errorf("%w (%d nonces, each kept until its timestamp is %s old); retry shortly", errNonceCacheFull, c.n, clockSkew)
	}
	gen := expires / nonceGeneration
	set := c.sets[gen]
	if set == nil {
		set = make(map[[nonceLen]byte]struct{})
		c.sets[gen] = set
	}
	set[nonce] = struct{}{}
	c.n++
	return nil
}

// size reports how many nonces the cache holds.
func (c *nonceCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
