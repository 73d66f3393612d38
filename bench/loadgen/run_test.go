package loadgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// fakeEdge is a test fixture standing in for an authok edge: a real
// fasthttp server on 127.0.0.1:0 answering /oauth/token with a canned
// token, /.well-known/* with canned documents and a small in-memory
// Management API. The generator is what the tests examine.
type fakeEdge struct {
	t    *testing.T
	url  *url.URL
	hits atomic.Int64

	tokenAlg  string // alg in the canned access token's header
	failEvery int64  // answer 503 to every n-th /oauth/token or JWKS request
	failPost  string // Management API path that answers 400

	mu      sync.Mutex
	clients map[string]string // client_id → secret
	deleted []string
	created []string
}

const (
	mgmtID     = "mgmt-client"
	mgmtSecret = "mgmt-secret-0123456789"
	mgmtToken  = "mgmt-token"
)

func startFakeEdge(t *testing.T) *fakeEdge {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &fakeEdge{t: t, tokenAlg: "RS256", clients: map[string]string{mgmtID: mgmtSecret}}
	e.url, _ = url.Parse("http://" + ln.Addr().String())
	srv := &fasthttp.Server{Handler: e.handle}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = srv.Shutdown() })
	return e
}

func cannedJWT(alg string) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","typ":"JWT","kid":"k1"}`))
	return h + ".eyJzdWIiOiJiZW5jaCJ9.c2ln"
}

func (e *fakeEdge) handle(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	switch {
	case path == "/oauth/token" && ctx.IsPost():
		n := e.hits.Add(1)
		if e.failEvery > 0 && n%e.failEvery == 0 {
			ctx.Error(`{"error":"temporarily_unavailable"}`, fasthttp.StatusServiceUnavailable)
			return
		}
		args := ctx.PostArgs()
		id, secret := string(args.Peek("client_id")), string(args.Peek("client_secret"))
		e.mu.Lock()
		ok := secret != "" && e.clients[id] == secret
		e.mu.Unlock()
		if string(args.Peek("grant_type")) != "client_credentials" || !ok {
			ctx.SetStatusCode(fasthttp.StatusUnauthorized)
			ctx.SetBodyString(`{"error":"invalid_client","error_description":"bad credentials"}`)
			return
		}
		token := mgmtToken
		if id != mgmtID {
			token = cannedJWT(e.tokenAlg)
		}
		ctx.SetContentType("application/json")
		fmt.Fprintf(ctx, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, token)
	case path == "/.well-known/jwks.json":
		n := e.hits.Add(1)
		if e.failEvery > 0 && n%e.failEvery == 0 {
			ctx.Error("overloaded", fasthttp.StatusServiceUnavailable)
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"keys":[{"kty":"EC","use":"sig","alg":"ES256","kid":"k1","crv":"P-256","x":"AA","y":"AA"}]}`)
	case path == "/.well-known/openid-configuration":
		ctx.SetContentType("application/json")
		fmt.Fprintf(ctx, `{"issuer":"%s/"}`, e.url)
	case strings.HasPrefix(path, "/api/v1/"):
		e.mgmt(ctx, strings.TrimPrefix(path, "/api/v1"))
	default:
		ctx.Error(`{"statusCode":404}`, fasthttp.StatusNotFound)
	}
}

func (e *fakeEdge) mgmt(ctx *fasthttp.RequestCtx, path string) {
	if string(ctx.Request.Header.Peek("Authorization")) != "Bearer "+mgmtToken {
		ctx.Error(`{"statusCode":401,"error":"Unauthorized","message":"bad token","errorCode":"invalid_token"}`, fasthttp.StatusUnauthorized)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	method := string(ctx.Method())
	if method == fasthttp.MethodDelete {
		e.deleted = append(e.deleted, path)
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	if path == e.failPost {
		ctx.Error(`{"statusCode":400,"error":"Bad Request","message":"name is too long","errorCode":"invalid_body"}`, fasthttp.StatusBadRequest)
		return
	}
	var in map[string]any
	if err := json.Unmarshal(ctx.PostBody(), &in); err != nil {
		ctx.Error(err.Error(), fasthttp.StatusBadRequest)
		return
	}
	e.created = append(e.created, path)
	ctx.SetStatusCode(fasthttp.StatusCreated)
	ctx.SetContentType("application/json")
	switch path {
	case "/resource-servers":
		in["id"] = "rs_1"
	case "/clients":
		in["client_id"], in["client_secret"] = "bench-client", "bench-secret"
		e.clients["bench-client"] = "bench-secret"
	case "/client-grants":
		in["id"] = "cg_1"
	}
	out, _ := json.Marshal(in)
	ctx.SetBody(out)
}

func TestRunBoundedByRequests(t *testing.T) {
	a, b := startFakeEdge(t), startFakeEdge(t)
	res, err := Run(context.Background(), LoadOptions{
		URLs: []*url.URL{a.url, b.url}, Target: JWKSTarget(), Concurrency: 4, Requests: 200,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 200 || res.OK != 200 || res.Errors != 0 || res.Latency.Count() != 200 {
		t.Fatalf("requests %d, ok %d, errors %d, recorded %d; want 200 ok", res.Requests, res.OK, res.Errors, res.Latency.Count())
	}
	// Each worker alternates between the URLs, so they differ by at most
	// one request per worker.
	if ha, hb := a.hits.Load(), b.hits.Load(); ha+hb != 200 || ha-hb > 4 || hb-ha > 4 {
		t.Errorf("round robin: %d and %d hits, want 100±4 each", ha, hb)
	}
	if res.Latency.Quantile(0.5) <= 0 || res.Latency.Quantile(0.999) < res.Latency.Quantile(0.5) || res.Throughput() <= 0 {
		t.Errorf("p50 %v, p99.9 %v, %v req/s", res.Latency.Quantile(0.5), res.Latency.Quantile(0.999), res.Throughput())
	}
}

func TestRunCountsErrors(t *testing.T) {
	e := startFakeEdge(t)
	e.failEvery = 10
	res, err := Run(context.Background(), LoadOptions{
		URLs: []*url.URL{e.url}, Target: ClientCredentialsTarget("nobody", "wrong", "https://bench.local/x"),
		Concurrency: 3, Requests: 200,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 200 || res.OK != 0 || res.Errors != 200 || res.Status[401] != 180 || res.Status[503] != 20 {
		t.Fatalf("requests %d ok %d errors %d status %v", res.Requests, res.OK, res.Errors, res.Status)
	}
	if len(res.ErrorSamples) != maxErrorSamples || !strings.Contains(strings.Join(res.ErrorSamples, "\n"), `"invalid_client"`) {
		t.Errorf("samples %q", res.ErrorSamples)
	}
	if res.Latency.Count() != 0 {
		t.Errorf("%d error latencies recorded", res.Latency.Count())
	}

	// Nobody listens: transport errors, counted, not retried.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead, _ := url.Parse("http://" + ln.Addr().String())
	ln.Close()
	res, err = Run(context.Background(), LoadOptions{URLs: []*url.URL{dead}, Target: JWKSTarget(), Concurrency: 2, Requests: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.TransportErrors != 20 || res.Errors != 20 || !strings.HasPrefix(res.ErrorSamples[0], "transport: ") {
		t.Errorf("transport errors %d, errors %d, samples %q", res.TransportErrors, res.Errors, res.ErrorSamples)
	}
}

func TestRunRateAndWarmup(t *testing.T) {
	e := startFakeEdge(t)
	var calls []bool
	t0 := time.Now()
	res, err := Run(context.Background(), LoadOptions{
		URLs: []*url.URL{e.url}, Target: JWKSTarget(), Concurrency: 4,
		Duration: 500 * time.Millisecond, Warmup: 200 * time.Millisecond, Rate: 400,
		OnMeasure: func(start bool) { calls = append(calls, start) },
	})
	total := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	// The rate is a ceiling however starved the machine: request k is due
	// k/400 s after the start and never sent before. (Idle, that is 200
	// measured requests and 80 in the warmup; starved, fewer: the count
	// from below is luck, so only "some" is checked.)
	if all, due := e.hits.Load(), int64(400*total.Seconds())+1; all > due {
		t.Errorf("%d requests sent in %v at 400/s: more than the %d due", all, total, due)
	}
	if all := e.hits.Load(); res.Requests == 0 || all <= res.Requests {
		t.Errorf("%d requests in all, %d measured: want some in the warmup and some measured", all, res.Requests)
	}
	if len(calls) != 2 || !calls[0] || calls[1] {
		t.Errorf("OnMeasure calls %v, want [true false]", calls)
	}
	// The window is Duration, not the 10-minute limit; how much longer
	// than 0.5 s a starved machine makes it is not this test's business.
	if res.Elapsed < 500*time.Millisecond || res.Elapsed > time.Minute {
		t.Errorf("window %v", res.Elapsed)
	}
}

func TestRunRequestsWithRateSendsExactly(t *testing.T) {
	e := startFakeEdge(t)
	res, err := Run(context.Background(), LoadOptions{URLs: []*url.URL{e.url}, Target: JWKSTarget(), Concurrency: 8, Requests: 100, Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 100 || e.hits.Load() != 100 {
		t.Errorf("%d measured, %d sent; want 100", res.Requests, e.hits.Load())
	}
	if res.Elapsed < 80*time.Millisecond {
		t.Errorf("100 requests at 1000/s took %v", res.Elapsed)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	e := startFakeEdge(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	res, err := Run(ctx, LoadOptions{URLs: []*url.URL{e.url}, Target: JWKSTarget(), Concurrency: 2, Duration: time.Minute, Rate: 50})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || time.Since(t0) > 30*time.Second { // not the minute of Duration
		t.Errorf("interrupted %v after %v", res.Interrupted, time.Since(t0))
	}
}

func TestRunRefusesUnboundedRuns(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1")
	for _, opts := range []LoadOptions{
		{URLs: []*url.URL{u}, Target: JWKSTarget(), Concurrency: 1},
		{URLs: []*url.URL{u}, Target: JWKSTarget(), Concurrency: 1, Duration: 11 * time.Minute},
		{URLs: []*url.URL{u}, Target: JWKSTarget(), Concurrency: 1, Requests: MaxRequests + 1},
	} {
		if _, err := Run(context.Background(), opts); err == nil {
			t.Errorf("Run(%+v) ran", opts)
		}
	}
}

func TestMainClientCredentials(t *testing.T) {
	e := startFakeEdge(t)
	e.tokenAlg = "ES256"
	out := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{
		"--url", e.url.String(), "--scenario", "client-credentials", "--alg", "ES256",
		"--concurrency", "4", "--requests", "200", "--warmup", "0",
		"--client-id", mgmtID, "--client-secret", mgmtSecret,
		"--server-pid", fmt.Sprint(os.Getpid()), "--sign-ops", "40", "--out", out,
	}, func(string) string { return "" }, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	if !strings.Contains(stdout.String(), "client-credentials ES256") || !strings.Contains(stdout.String(), "one ES256 signature in-process") {
		t.Errorf("table:\n%s", &stdout)
	}
	if want := []string{"/client-grants/cg_1", "/clients/bench-client", "/resource-servers/rs_1"}; fmt.Sprint(e.deleted) != fmt.Sprint(want) {
		t.Errorf("deleted %v, want %v", e.deleted, want)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	r := rep.Result
	if r.Requests != 200 || r.OK != 200 || r.ServerCPU == nil || r.ServerCPU.PID != os.Getpid() || r.GeneratorCPU == nil ||
		r.Signature == nil || r.Signature.Alg != "ES256" || r.Signature.Before.CPUUs <= 0 || r.Signature.After.WallUs <= 0 || r.Signature.YardstickUs <= 0 || r.MachineCPU == nil || r.LatencyMs.P99 <= 0 {
		t.Errorf("result %+v", r)
	}
	if rep.Machine.NProc < 1 || rep.GoVersion == "" || rep.Command[0] != "loadgen" || rep.Fixture.Audience == "" {
		t.Errorf("report header %+v", rep)
	}
	if bytes.Contains(data, []byte("bench-secret")) || bytes.Contains(data, []byte(mgmtSecret)) {
		t.Error("a secret leaked into the results file")
	}
}

func TestMainJWKSWithErrors(t *testing.T) {
	e := startFakeEdge(t)
	e.failEvery = 50
	var stdout bytes.Buffer
	code := Main(context.Background(), []string{"--url", e.url.String(), "--scenario", "jwks", "--requests", "200", "--warmup", "0", "--concurrency", "2"},
		func(string) string { return "" }, &stdout, io.Discard)
	if code != 1 || !strings.Contains(stdout.String(), "4/200") || !strings.Contains(stdout.String(), "error: 503 overloaded") {
		t.Errorf("exit %d, table:\n%s", code, &stdout)
	}
}

func TestMainSetupFailures(t *testing.T) {
	tests := []struct {
		name        string
		failPost    string
		tokenAlg    string
		secret      string
		wantErr     string
		wantDeleted []string
	}{
		{name: "management token refused", secret: "wrong", wantErr: "invalid_client"},
		{name: "client creation refused", failPost: "/clients", wantErr: "name is too long", wantDeleted: []string{"/resource-servers/rs_1"}},
		{name: "grant creation refused", failPost: "/client-grants", wantErr: "invalid_body", wantDeleted: []string{"/clients/bench-client", "/resource-servers/rs_1"}},
		{name: "token signed with another alg", tokenAlg: "RS256", wantErr: `signed with "RS256"`,
			wantDeleted: []string{"/client-grants/cg_1", "/clients/bench-client", "/resource-servers/rs_1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startFakeEdge(t)
			e.failPost, e.tokenAlg = tt.failPost, "PS256"
			if tt.tokenAlg != "" {
				e.tokenAlg = tt.tokenAlg
			}
			var stderr bytes.Buffer
			code := Main(context.Background(), []string{
				"--url", e.url.String(), "--alg", "PS256", "--requests", "10", "--sign-ops", "0",
				"--client-id", mgmtID, "--client-secret", cmpOr(tt.secret, mgmtSecret),
			}, func(string) string { return "" }, io.Discard, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("exit %d, stderr %s; want 1 and %q", code, &stderr, tt.wantErr)
			}
			if fmt.Sprint(e.deleted) != fmt.Sprint(tt.wantDeleted) {
				t.Errorf("deleted %v, want %v", e.deleted, tt.wantDeleted)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestMainBadCommandLine(t *testing.T) {
	var stderr bytes.Buffer
	if code := Main(context.Background(), []string{"--url", "http://127.0.0.1:1", "--scenario", "jwks"}, func(string) string { return "" }, io.Discard, &stderr); code != 2 {
		t.Errorf("exit %d, want 2; stderr %s", code, &stderr)
	}
	if code := Main(context.Background(), []string{"--help"}, func(string) string { return "" }, io.Discard, io.Discard); code != 0 {
		t.Errorf("--help: exit %d", code)
	}
}

func TestMeasureSign(t *testing.T) {
	for _, alg := range Algs {
		sc, err := MeasureSign(alg, 20)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if sc.Median <= 0 || sc.MedianCPU < 0 || sc.Key == "" {
			t.Errorf("%s: %+v", alg, sc)
		}
	}
	if _, err := MeasureSign("HS256", 10); err == nil {
		t.Error("HS256 measured")
	}
}

func TestRedactArgs(t *testing.T) {
	got := redactArgs([]string{"--client-id", "x", "--client-secret", "s1", "-client-secret=s2", "--url", "u"})
	if want := "[--client-id x --client-secret REDACTED -client-secret=REDACTED --url u]"; fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
}
