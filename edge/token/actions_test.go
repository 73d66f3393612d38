package token

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authok-edge/authok/edge/server"
	"github.com/authok-edge/authok/shared/logship"
)

// scriptedActions stands in for actions-runtime: it answers every
// credentials-exchange with the commands (or error) the test set, and
// keeps a copy of the event it saw.
type scriptedActions struct {
	mu     sync.Mutex
	cmds   []Command
	err    error
	calls  atomic.Int64
	seen   ExchangeEvent
	params map[string]string
}

func (a *scriptedActions) CredentialsExchange(_ context.Context, ev *ExchangeEvent) ([]Command, error) {
	a.calls.Add(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	// The event's byte slices die with the call: keep copies.
	a.seen = *ev
	a.seen.RequestedScope = clone(ev.RequestedScope)
	a.seen.Request.Method = clone(ev.Request.Method)
	a.seen.Request.Hostname = clone(ev.Request.Hostname)
	a.seen.Request.UserAgent = clone(ev.Request.UserAgent)
	a.seen.Request.Language = clone(ev.Request.Language)
	a.params = map[string]string{}
	for k, v := range ev.Request.Params() {
		a.params[string(k)] = string(v)
	}
	return a.cmds, a.err
}

func (a *scriptedActions) set(err error, cmds ...Command) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cmds, a.err = cmds, err
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// withActions replaces e's handler by one that runs acts.
func (e *env) withActions(acts Actions) {
	e.t.Helper()
	h, err := New(Config{Directory: e.dir, Store: e.applier, Logs: e.logs, Logger: discard, Actions: acts})
	if err != nil {
		e.t.Fatal(err)
	}
	e.h = h
}

// serveActions runs one request through e.h as fasthttp hands it over.
func (e *env) serveActions(form url.Values) response {
	ctx := e.requestCtx(form)
	ctx.Request.Header.Set("Accept-Language", "fr-CH, fr;q=0.9")
	e.h.Serve(ctx)
	r := response{status: ctx.Response.StatusCode(), raw: string(ctx.Response.Body()), header: http.Header{}}
	json.Unmarshal(ctx.Response.Body(), &r.body)
	return r
}

// eventSaying is the tenant's log event whose description holds text
// (events of one millisecond are not ordered, so tests find theirs).
func (e *env) eventSaying(text string) map[string]any {
	e.t.Helper()
	if err := e.logs.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	events, err := logship.Events(e.st, tenantName, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, raw := range events {
		var ev map[string]any
		json.Unmarshal(raw, &ev)
		if d, _ := ev["description"].(string); strings.Contains(d, text) {
			return ev
		}
	}
	e.t.Fatalf("no log event says %q among %d", text, len(events))
	return nil
}

func TestActionsSeeTheDecisionAndSetClaims(t *testing.T) {
	e := newEnv(t, envOptions{})
	acts := &scriptedActions{}
	e.withActions(acts)
	acts.set(nil,
		Command{Type: CommandSetCustomClaim, Action: "tier", Name: "https://example.com/tier", Value: "gold"},
		Command{Type: CommandSetCustomClaim, Action: "tier", Name: "plan", Value: map[string]any{"seats": 3, "tags": []string{"a", "<b>"}}},
		Command{Type: CommandSetCustomClaim, Action: "raw", Name: "raw", Value: json.RawMessage(`{"x": [1, 2]}`)},
		// In order: a later value for the same claim wins.
		Command{Type: CommandSetCustomClaim, Action: "tier", Name: "email", Value: "first@example.com"},
		Command{Type: CommandSetCustomClaim, Action: "other", Name: "email", Value: "m2m@example.com"},
	)
	r := e.serveActions(postForm("scope", "write:things read:things delete:things"))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	c := e.verify(r.str("access_token"), apiThings)
	for k, want := range map[string]any{
		"https://example.com/tier": "gold", "email": "m2m@example.com",
		"sub": postID, "client_id": postID, "azp": postID, "scope": "write:things read:things", "gty": "client-credentials",
	} {
		if c[k] != want {
			t.Errorf("claim %s = %v, want %v", k, c[k], want)
		}
	}
	if plan, _ := json.Marshal(c["plan"]); string(plan) != `{"seats":3,"tags":["a","\u003cb\u003e"]}` {
		t.Errorf("plan %s", plan)
	}
	if raw, _ := json.Marshal(c["raw"]); string(raw) != `{"x":[1,2]}` {
		t.Errorf("raw %s", raw)
	}
	if r.str("scope") != "write:things read:things" || r.body["expires_in"] != float64(3600) {
		t.Errorf("response %s", r.raw)
	}

	// What the action saw (API.md D.2): the grant's decision and the
	// request, never the client's secret.
	ev := acts.seen
	if ev.Tenant != tenantName || ev.Client.ID != postID || ev.Client.Name != "Post machine" || ev.ResourceServer != apiThings ||
		ev.Scope != "write:things read:things" || string(ev.RequestedScope) != "write:things read:things delete:things" || ev.CustomClaims != nil {
		t.Errorf("event %+v", ev)
	}
	q := ev.Request
	if q.IP.String() != "10.0.0.1" || string(q.Method) != "POST" || string(q.Hostname) != "acme.test" || string(q.UserAgent) != "bench/1.0" || string(q.Language) != "fr-CH, fr;q=0.9" {
		t.Errorf("request %+v", q)
	}
	if acts.params["grant_type"] != "client_credentials" || acts.params["audience"] != apiThings || acts.params["client_id"] != postID {
		t.Errorf("params %v", acts.params)
	}
	if _, ok := acts.params["client_secret"]; ok {
		t.Errorf("the action saw the client secret: %v", acts.params)
	}
}

func TestActionsChangeScopes(t *testing.T) {
	e := newEnv(t, envOptions{})
	acts := &scriptedActions{}
	e.withActions(acts)
	for _, tc := range []struct {
		name  string
		cmds  []Command
		scope string // "" : none in the response nor the token
	}{
		{"add and remove", []Command{
			{Type: CommandAddScope, Name: "extra:things"},
			{Type: CommandRemoveScope, Name: "read:things"},
			{Type: CommandAddScope, Name: "write:things"}, // already there
		}, "write:things extra:things"},
		{"remove all", []Command{{Type: CommandRemoveScope, Name: "read:things"}, {Type: CommandRemoveScope, Name: "write:things"}}, ""},
		{"remove what is not there", []Command{{Type: CommandRemoveScope, Name: "admin"}}, "read:things write:things"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acts.set(nil, tc.cmds...)
			r := e.serveActions(postForm())
			if r.status != 200 || r.str("scope") != tc.scope {
				t.Fatalf("%d %s, want scope %q", r.status, r.raw, tc.scope)
			}
			_, present := r.body["scope"]
			c := e.verify(r.str("access_token"), apiThings)
			if got, _ := c["scope"].(string); got != tc.scope || present != (tc.scope != "") {
				t.Fatalf("token scope %q, response %s", got, r.raw)
			}
		})
	}
}

func TestActionDenies(t *testing.T) {
	e := newEnv(t, envOptions{})
	acts := &scriptedActions{}
	e.withActions(acts)
	long := strings.Repeat("é", MaxDenyReasonBytes) // 2 bytes each
	for _, tc := range []struct {
		name, reason, want string
	}{
		{"with a reason", "the tier does not allow M2M", "the tier does not allow M2M"},
		{"without one", "", "access denied by a credentials-exchange action"},
		{"a long reason is cut on a character", long, long[:MaxDenyReasonBytes]},
		{"invalid UTF-8", "bad \xff byte", "bad \ufffd byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acts.set(nil,
				Command{Type: CommandSetCustomClaim, Action: "tier", Name: "tier", Value: "gold"},
				Command{Type: CommandAccessDenied, Action: "gate " + tc.name, Reason: tc.reason},
				Command{Type: CommandSetCustomClaim, Action: "tier", Name: "sub", Value: "ignored: the denial came first"})
			r := e.serveActions(postForm())
			if r.status != 400 || r.str("error") != "access_denied" || r.str("error_description") != tc.want || r.str("access_token") != "" {
				t.Fatalf("%d %s, want access_denied %q", r.status, r.raw, tc.want)
			}
			ev := e.eventSaying(`credentials-exchange action "gate ` + tc.name + `" denied access: `)
			// (logship may cut a long description.)
			if d, _ := ev["description"].(string); ev["type"] != "exchange_failed" || !strings.HasPrefix(`credentials-exchange action "gate `+tc.name+`" denied access: `+tc.want, d) {
				t.Errorf("event %v", ev)
			}
			if d, _ := ev["details"].(map[string]any); d["error"] != "access_denied" {
				t.Errorf("details %v", ev["details"])
			}
		})
	}
}

// A failing action (crash, timeout, bad output) fails the request with an
// error that names nothing; the tenant's log says what failed.
func TestActionFailureNamesNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	acts := &scriptedActions{}
	e.withActions(acts)
	acts.set(errors.New(`action "tier" timed out after 100ms (secret sk_live_123 in its last log line)`))
	r := e.serveActions(postForm())
	if r.status != 500 || r.raw != `{"error":"server_error","error_description":"a credentials-exchange action failed"}` {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	ev := e.eventSaying(`action "tier" timed out`)
	if ev["type"] != "exchange_failed" || ev["client_id"] != postID {
		t.Errorf("event %v", ev)
	}
}

// Commands are validated: registered claims and reserved namespaces
// cannot be set, sizes are bounded, and what is not a known command is
// refused. A refused command fails the request as a failed action does.
func TestRefusedCommands(t *testing.T) {
	e := newEnv(t, envOptions{})
	acts := &scriptedActions{}
	e.withActions(acts)
	var tooMany []Command
	for i := range 4 {
		tooMany = append(tooMany, Command{Type: CommandSetCustomClaim, Name: "big" + string(rune('a'+i)), Value: strings.Repeat("x", MaxCustomClaimsBytes/4)})
	}
	cases := []struct {
		name    string
		cmds    []Command
		logHas  string
		refused bool
	}{
		{"a value too large", []Command{{Type: CommandSetCustomClaim, Name: "big", Value: strings.Repeat("x", MaxCustomClaimsBytes)}}, "exceed", true},
		{"claims together too large", tooMany, "exceed", true},
		{"a name too long", []Command{{Type: CommandSetCustomClaim, Name: strings.Repeat("n", MaxClaimNameBytes+1)}}, "longer than", true},
		{"an empty name", []Command{{Type: CommandSetCustomClaim, Name: "", Value: 1}}, "empty", true},
		{"a value JSON cannot hold", []Command{{Type: CommandSetCustomClaim, Name: "n", Value: math.Inf(1)}}, "not JSON", true},
		{"invalid raw JSON", []Command{{Type: CommandSetCustomClaim, Name: "n", Value: json.RawMessage(`{`)}}, "not JSON", true},
		{"an invalid scope-token", []Command{{Type: CommandAddScope, Name: `a"b`}}, "scope-token", true},
		{"an empty scope-token", []Command{{Type: CommandRemoveScope, Name: ""}}, "scope-token", true},
		{"an unknown command", []Command{{Type: "SetMetadata", Name: "x"}}, "unknown command", true},
		{"an ID token claim is not this trigger's", []Command{{Type: "SetIDTokenClaim", Name: "x"}}, "unknown command", true},
		{"a claim set again counts once", []Command{
			{Type: CommandSetCustomClaim, Name: "big", Value: strings.Repeat("x", MaxCustomClaimsBytes*2/3)},
			{Type: CommandSetCustomClaim, Name: "big", Value: strings.Repeat("y", MaxCustomClaimsBytes*2/3)},
			{Type: CommandSetCustomClaim, Name: "big", Value: 1},
		}, "", false},
		{"a namespaced claim elsewhere", []Command{{Type: CommandSetCustomClaim, Name: "https://example.com/auth0.com/x", Value: 1}}, "", false},
		{"a URL with a reserved word in its path", []Command{{Type: CommandSetCustomClaim, Name: "https://my.app/authok.cn", Value: 1}}, "", false},
	}
	for _, name := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "scope", "azp", "client_id", "gty", "nbf", "permissions", "org_id", "cnf", "act"} {
		cases = append(cases, struct {
			name    string
			cmds    []Command
			logHas  string
			refused bool
		}{"registered claim " + name, []Command{{Type: CommandSetCustomClaim, Name: name, Value: "attacker"}}, `custom claim "` + name + `": a registered claim`, true})
	}
	for _, name := range []string{"https://auth0.com/x", "http://tenant.authok.cn/x", "HTTPS://WEBTASK.IO/x", "https://user@webtask.run:443/x", "https://authok.io./x", "urn:auth0:x", "URN:AUTHOK:claims:x"} {
		cases = append(cases, struct {
			name    string
			cmds    []Command
			logHas  string
			refused bool
		}{"reserved namespace " + name, []Command{{Type: CommandSetCustomClaim, Name: name, Value: 1}}, "is reserved", true})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.cmds {
				tc.cmds[i].Action = tc.name
			}
			acts.set(nil, tc.cmds...)
			r := e.serveActions(postForm())
			if !tc.refused {
				if r.status != 200 {
					t.Fatalf("%d %s", r.status, r.raw)
				}
				c := e.verify(r.str("access_token"), apiThings)
				if c[tc.cmds[0].Name] != float64(1) {
					t.Fatalf("claims %v", c)
				}
				return
			}
			if r.status != 500 || r.raw != `{"error":"server_error","error_description":"a credentials-exchange action failed"}` {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			ev := e.eventSaying(`action "` + tc.name + `" refused: `)
			if d := ev["description"].(string); !strings.Contains(d, tc.logHas) {
				t.Errorf("event description %q does not say %q", d, tc.logHas)
			}
		})
	}
}

// Actions run only once the grant has decided: a request the grant
// refuses never reaches them.
func TestActionsRunOnlyOnADecision(t *testing.T) {
	e := newEnv(t, envOptions{})
	acts := &scriptedActions{}
	e.withActions(acts)
	for _, form := range []url.Values{
		postForm("client_id", noGrantID),          // access_denied: no client grant
		postForm("client_secret", "wrong"),        // invalid_client
		postForm("audience", "https://x/unknown"), // invalid_target
		postForm("scope", "admin"),                // invalid_scope
		postForm("grant_type", "authorization_code"),
	} {
		if r := e.serveActions(form); r.status == 200 {
			t.Fatalf("%v: %s", form, r.raw)
		}
	}
	if n := acts.calls.Load(); n != 0 {
		t.Fatalf("actions ran %d times", n)
	}
	e.serveActions(postForm())
	if n := acts.calls.Load(); n != 1 {
		t.Fatalf("actions ran %d times for one token", n)
	}
}

// An edge with the runtime configured but nothing bound pays nothing per
// request beyond the call: the event is built in the pooled request.
func TestUnboundActionsCostNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	e := newEnv(t, envOptions{alg: "EdDSA"})
	ctx := e.requestCtx(postForm())
	e.serveOK(t, ctx)
	without := testing.AllocsPerRun(100, func() { e.serveOK(t, ctx) })
	var calls atomic.Int64
	e.withActions(noActions{&calls})
	e.serveOK(t, ctx)
	with := testing.AllocsPerRun(100, func() { e.serveOK(t, ctx) })
	if with != without || calls.Load() == 0 {
		t.Fatalf("%.0f allocations per request with unbound actions, %.0f without (%d calls)", with, without, calls.Load())
	}
}

// noActions is a runtime with nothing bound: it counts and returns.
type noActions struct{ calls *atomic.Int64 }

func (n noActions) CredentialsExchange(context.Context, *ExchangeEvent) ([]Command, error) {
	n.calls.Add(1)
	return nil, nil
}

// Over HTTP with golang.org/x/oauth2: the claim reaches the client's
// token, and a denial is the RFC 6749 error the library reports.
func TestActionsWithOAuth2Client(t *testing.T) {
	e := newEnv(t, envOptions{listen: true})
	acts := &scriptedActions{}
	e.withActions(acts)
	// A second listener serving the handler with actions; requests keep
	// the tenant's Host.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{ControlHandler: http.NotFoundHandler(), Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("POST", "/oauth/token", e.h.Serve)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, ln.Addr().String())
	}}}
	cctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	cc := clientcredentials.Config{ClientID: postID, ClientSecret: postSecret, TokenURL: e.tokenURL,
		AuthStyle: oauth2.AuthStyleInParams, EndpointParams: url.Values{"audience": {apiThings}}}

	acts.set(nil, Command{Type: CommandSetCustomClaim, Name: "https://example.com/tier", Value: "gold"})
	tok, err := cc.Token(cctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := e.verify(tok.AccessToken, apiThings); c["https://example.com/tier"] != "gold" {
		t.Fatalf("claims %v", c)
	}

	acts.set(nil, Command{Type: CommandAccessDenied, Reason: "no M2M on the free tier"})
	_, err = cc.Token(cctx)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "access_denied" || re.ErrorDescription != "no M2M on the free tier" || re.Response.StatusCode != 400 {
		t.Fatalf("%v", err)
	}
}

// fixedActions answers every request with the same commands.
type fixedActions []Command

func (f fixedActions) CredentialsExchange(context.Context, *ExchangeEvent) ([]Command, error) {
	return f, nil
}

// BenchmarkTokenWithActionCommands is BenchmarkTokenClientCredentials/EdDSA
// with an in-process Actions that binds nothing, then one that sets one
// custom claim: the dispatcher's own cost of the hook (building the event,
// validating and encoding the claim), without any sandbox.
func BenchmarkTokenWithActionCommands(b *testing.B) {
	for _, tc := range []struct {
		name string
		acts Actions
	}{
		{"unbound", noActions{new(atomic.Int64)}},
		{"one-claim", fixedActions{{Type: CommandSetCustomClaim, Name: "https://example.com/tier", Value: "gold"}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := newEnv(b, envOptions{alg: "EdDSA"})
			e.withActions(tc.acts)
			ctx := e.requestCtx(postForm())
			e.benchServe(b, ctx)
		})
	}
}
