package token

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/shared/heaptest"
)

// Unauthenticated requests cannot make the edge keep memory: thousands of
// distinct client_ids longer than any that can exist (in the body, the
// Basic header and a client assertion's iss) and of distinct oversized
// Host headers, through the handler, leave the heap where it was. Before,
// each was cached as a miss with its whole key: the ~34 MiB sent here
// stayed in memory.
func TestOversizedIDsAndHostsHoldNoMemory(t *testing.T) {
	const (
		rounds    = 1500
		bodyIDLen = 16 << 10 // fits the 64 KiB body
		basicLen  = 2 << 10  // fits the 4 KiB Basic header once base64-encoded
		issLen    = 5 << 10  // twice (iss, sub), base64: fits the 16 KiB client assertion
		hostLen   = 8 << 10
		bound     = 16 << 20
	)
	e := newEnv(t, envOptions{})
	unknown := e.serveRaw(e.host, "grant_type=client_credentials&client_id=nobody&client_secret=x", "")
	if unknown.status != 401 {
		t.Fatalf("unknown client: %d %s", unknown.status, unknown.body)
	}
	badHost := e.serveRaw("nowhere.test", "grant_type=client_credentials", "")
	if badHost.status != 400 {
		t.Fatalf("unknown host: %d %s", badHost.status, badHost.body)
	}
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"alg":"ES256","kid":"ec-1"}`))
	pad := func(n int) string { return strings.Repeat("x", n) }

	before := heaptest.Alloc()
	for i := range rounds {
		id := fmt.Sprintf("%d-", i)
		var got rawResponse
		switch i % 3 {
		case 0:
			got = e.serveRaw(e.host, "grant_type=client_credentials&client_secret=x&client_id="+id+pad(bodyIDLen), "")
		case 1:
			got = e.serveRaw(e.host, "grant_type=client_credentials", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+pad(basicLen)+":x")))
		case 2:
			iss := id + pad(issLen)
			claims := enc(fmt.Appendf(nil, `{"iss":%q,"sub":%q,"aud":%q,"exp":4000000000,"jti":"j"}`, iss, iss, e.tokenURL))
			got = e.serveRaw(e.host, "grant_type=client_credentials&client_assertion_type="+AssertionTypeJWTBearer+
				"&client_assertion="+header+"."+claims+"."+enc([]byte("not a signature")), "")
		}
		// No client enumeration: the answer of an unknown client, to the byte.
		if got.status != 401 || !bytes.Equal(got.body, unknown.body) {
			t.Fatalf("oversized client_id (form %d): %d %s; want %d %s", i%3, got.status, got.body, unknown.status, unknown.body)
		}
		got = e.serveRaw(id+pad(hostLen), "grant_type=client_credentials", "")
		if got.status != badHost.status || !bytes.Equal(got.body, badHost.body) {
			t.Fatalf("oversized host: %d %s; want %d %s", got.status, got.body, badHost.status, badHost.body)
		}
	}
	// The failure events are the log's to bound; ship them so that only
	// what the handler and the caches keep is left.
	if err := e.logs.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	grew := heaptest.Alloc() - before
	runtime.KeepAlive(e)
	t.Logf("%d oversized client_ids and %d oversized hosts grew the heap by %d KiB", rounds, rounds, grew>>10)
	if grew > bound {
		t.Fatalf("the heap grew by %d MiB (bound %d MiB)", grew>>20, bound>>20)
	}
}

type rawResponse struct {
	status int
	body   []byte
}

// serveRaw runs one request through the handler, as fasthttp hands it over.
func (e *env) serveRaw(host, body, authorization string) rawResponse {
	var req fasthttp.Request
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI("/oauth/token")
	req.Header.SetHost(host)
	req.Header.SetContentType("application/x-www-form-urlencoded")
	if authorization != "" {
		req.Header.Set(fasthttp.HeaderAuthorization, authorization)
	}
	req.SetBodyString(body)
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 40000}, nil)
	e.h.Serve(&ctx)
	return rawResponse{status: ctx.Response.StatusCode(), body: bytes.Clone(ctx.Response.Body())}
}
