package token

import (
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/shared/benchcpu"
	"github.com/authok-edge/authok/shared/tokens"
)

// requestCtx is a client_secret_post request for apiThings as fasthttp
// hands it to the handler, without a network.
func (e *env) requestCtx(form url.Values) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI("/oauth/token")
	req.Header.SetHost(e.host)
	req.Header.SetContentType("application/x-www-form-urlencoded")
	req.Header.SetUserAgent("bench/1.0")
	req.SetBodyString(form.Encode())
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 40000}, nil)
	return ctx
}

func (e *env) serveOK(tb testing.TB, ctx *fasthttp.RequestCtx) {
	ctx.Response.Reset()
	e.h.Serve(ctx)
	if ctx.Response.StatusCode() != 200 {
		tb.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}

// handlerAllocBudget is what a warm client_credentials request may
// allocate beyond its signature: the client_id string, the jti string and
// the encoded log event.
const handlerAllocBudget = 4

// TestWarmRequestAllocationBudget guards the hot path: a warm request
// allocates at most handlerAllocBudget times more than signing its claims
// alone does.
func TestWarmRequestAllocationBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, alg := range []tokens.Alg{tokens.RS256, tokens.ES256, tokens.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			e := newEnv(t, envOptions{alg: string(alg)})
			ctx := e.requestCtx(postForm())
			e.serveOK(t, ctx)
			n := testing.AllocsPerRun(50, func() { e.serveOK(t, ctx) })
			s, err := e.dir.Signer(tenantName, alg)
			if err != nil {
				t.Fatal(err)
			}
			claims := benchClaims()
			buf := make([]byte, 0, 2048)
			sig := testing.AllocsPerRun(50, func() { s.SignAccess(buf[:0], claims) })
			t.Logf("%s: %.0f allocations per request, %.0f of them signing", alg, n, sig)
			if n-sig > handlerAllocBudget {
				t.Fatalf("%s: a warm request allocates %.0f times beyond its signature, budget %d", alg, n-sig, handlerAllocBudget)
			}
		})
	}
}

func benchClaims() *tokens.AccessClaims {
	now := time.Now().Unix()
	return &tokens.AccessClaims{
		Issuer: "https://acme.test/", Subject: postID, Audience: []string{apiThings}, ClientID: postID,
		Scope: "read:things write:things", GrantType: gtyClientCredentials, JTI: newJTI(),
		IssuedAt: now, ExpiresAt: now + 3600,
	}
}

// BenchmarkTokenClientCredentials is a whole warm request through the
// handler (parse, authenticate, look up, sign, respond, log event), without
// a network, for every algorithm; BenchmarkRawSignature is the signature
// alone, for comparison. bench/boringcrypto.sh runs both with and without
// GOEXPERIMENT=boringcrypto.
func BenchmarkTokenClientCredentials(b *testing.B) {
	for _, alg := range tokens.Algs {
		b.Run(string(alg), func(b *testing.B) {
			e := newEnv(b, envOptions{alg: string(alg)})
			ctx := e.requestCtx(postForm())
			e.benchServe(b, ctx)
		})
	}
}

// benchServe serves ctx's request through the handler, warm, once per
// iteration, reporting allocations and CPU time per request; the last
// answer must be a 200.
func (e *env) benchServe(b *testing.B, ctx *fasthttp.RequestCtx) {
	e.serveOK(b, ctx)
	b.ReportAllocs()
	b.ResetTimer()
	done := benchcpu.Measure(b)
	for b.Loop() {
		ctx.Response.Reset()
		e.h.Serve(ctx)
	}
	done()
	b.StopTimer()
	if ctx.Response.StatusCode() != 200 {
		b.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}

func BenchmarkRawSignature(b *testing.B) {
	for _, alg := range tokens.Algs {
		b.Run(string(alg), func(b *testing.B) {
			e := newEnv(b, envOptions{alg: string(alg)})
			s, err := e.dir.Signer(tenantName, alg)
			if err != nil {
				b.Fatal(err)
			}
			claims := benchClaims()
			buf := make([]byte, 0, 2048)
			b.ReportAllocs()
			b.ResetTimer()
			done := benchcpu.Measure(b)
			for b.Loop() {
				if _, err := s.SignAccess(buf[:0], claims); err != nil {
					b.Fatal(err)
				}
			}
			done()
		})
	}
}
