package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authok-edge/authok/shared/logship"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/tokens"
)

// checkToken verifies a token the endpoint issued for clientID.
func (e *env) checkToken(token, clientID, audience, scope string, lifetime int64) {
	e.t.Helper()
	c := e.verify(token, audience)
	for k, want := range map[string]any{
		"sub": clientID, "client_id": clientID, "azp": clientID, "scope": scope, "gty": "client-credentials",
	} {
		if c[k] != want {
			e.t.Errorf("claim %s = %v, want %v", k, c[k], want)
		}
	}
	if jti, _ := c["jti"].(string); len(jti) < 16 {
		e.t.Errorf("jti %q", jti)
	}
	iat, _ := c["iat"].(time.Time)
	exp, _ := c["exp"].(time.Time)
	if got := int64(exp.Sub(iat) / time.Second); got != lifetime {
		e.t.Errorf("exp - iat = %d, want %d", got, lifetime)
	}
	h, _, _ := strings.Cut(token, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(h)
	var hdr struct{ Typ, Kid string }
	json.Unmarshal(raw, &hdr)
	if hdr.Typ != "at+jwt" || hdr.Kid == "" {
		e.t.Errorf("header %s", raw)
	}
}

func TestClientCredentialsWithOAuth2Client(t *testing.T) {
	e := newEnv(t, envOptions{listen: true})
	for _, tc := range []struct {
		name, id, secret string
		style            oauth2.AuthStyle
	}{
		{"client_secret_post", postID, postSecret, oauth2.AuthStyleInParams},
		// golang.org/x/oauth2 form-urlencodes both halves (RFC 6749 §2.3.1);
		// this client's id and secret need it.
		{"client_secret_basic", basicID, basicSecret, oauth2.AuthStyleInHeader},
		// Auto-detect tries Basic first, gets invalid_client for a
		// client_secret_post client, and retries in the body.
		{"auto-detect", postID, postSecret, oauth2.AuthStyleAutoDetect},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := clientcredentials.Config{
				ClientID: tc.id, ClientSecret: tc.secret, TokenURL: e.tokenURL, AuthStyle: tc.style,
				EndpointParams: url.Values{"audience": {apiThings}},
			}
			tok, err := cc.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.Expiry.Before(time.Now().Add(59*time.Minute)) {
				t.Fatalf("token type %q expiry %v", tok.TokenType, tok.Expiry)
			}
			if s, _ := tok.Extra("scope").(string); s != "read:things write:things" {
				t.Errorf("scope %q", s)
			}
			e.checkToken(tok.AccessToken, tc.id, apiThings, "read:things write:things", 3600)
		})
	}
	t.Run("narrower scope", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: postID, ClientSecret: postSecret, TokenURL: e.tokenURL,
			AuthStyle: oauth2.AuthStyleInParams, Scopes: []string{"write:things"}, EndpointParams: url.Values{"audience": {apiThings}}}
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		e.checkToken(tok.AccessToken, postID, apiThings, "write:things", 3600)
	})
	// API.md B.4: grant ∩ requested. What is not granted is left out, and
	// the response says what was issued (RFC 6749 §5.1).
	for _, tc := range []struct{ name, requested, issued string }{
		{"partly granted", "delete:things read:things", "read:things"},
		{"repeats and order", "write:things delete:things write:things read:things", "write:things read:things"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.form(postForm("scope", tc.requested), nil)
			if r.status != 200 || r.str("scope") != tc.issued {
				t.Fatalf("%d %s, want scope %q", r.status, r.raw, tc.issued)
			}
			e.checkToken(r.str("access_token"), postID, apiThings, tc.issued, 3600)
		})
	}
}

func TestResponseShape(t *testing.T) {
	e := newEnv(t, envOptions{listen: true})
	r := e.form(postForm(), nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	checkHeaders(t, r)
	if r.str("token_type") != "Bearer" || r.body["expires_in"] != float64(3600) || r.str("scope") != "read:things write:things" || r.str("access_token") == "" {
		t.Fatalf("body %s", r.raw)
	}
	if len(r.body) != 4 {
		t.Errorf("unexpected members in %s", r.raw)
	}
}

// checkHeaders asserts the headers of every token endpoint answer (RFC
// 6749 §5.1, §5.2).
func checkHeaders(t *testing.T, r response) {
	t.Helper()
	if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	if got := r.header.Get("Pragma"); got != "no-cache" {
		t.Errorf("Pragma %q", got)
	}
}

func TestJSONBodyAndQueryFallback(t *testing.T) {
	e := newEnv(t, envOptions{listen: true})
	body, _ := json.Marshal(map[string]string{"grant_type": "client_credentials", "client_id": postID, "client_secret": postSecret, "audience": apiThings})
	r := e.do("application/json; charset=utf-8", string(body), nil)
	if r.status != 200 {
		t.Fatalf("JSON body: %d %s", r.status, r.raw)
	}
	// Seed 000's example puts every parameter in the query; everything but
	// the secret is accepted there, and a secret in the URL is refused
	// (RFC 6749 §2.3.1).
	r = e.do("", "", func(req *http.Request) { req.URL.RawQuery = postForm().Encode() })
	if r.status != 400 || !strings.Contains(string(r.raw), "never in the URL") {
		t.Fatalf("secret in the query: %d %s", r.status, r.raw)
	}
	checkHeaders(t, r)
	r = e.form(url.Values{"client_secret": {postSecret}}, func(req *http.Request) {
		req.URL.RawQuery = url.Values{"grant_type": {"client_credentials"}, "client_id": {postID}, "audience": {apiThings}}.Encode()
	})
	if r.status != 200 {
		t.Fatalf("everything but the secret in the query: %d %s", r.status, r.raw)
	}
	// The body wins nothing: parameters may be split across body and query.
	r = e.form(url.Values{"grant_type": {"client_credentials"}, "client_id": {postID}, "client_secret": {postSecret}},
		func(req *http.Request) { req.URL.RawQuery = "audience=" + url.QueryEscape(apiThings) })
	if r.status != 200 {
		t.Fatalf("body and query: %d %s", r.status, r.raw)
	}
	// An empty copy is absent (RFC 6749 §3.2): it neither counts as a
	// duplicate nor hides the copy with a value, wherever that one is.
	for _, tc := range []struct{ name, ctype, body, query string }{
		{"empty form copy first", "application/x-www-form-urlencoded",
			"grant_type=&grant_type=client_credentials&client_id=" + postID + "&client_secret=" + postSecret + "&audience=" + url.QueryEscape(apiThings), ""},
		{"empty JSON member, value in the query", "application/json",
			`{"grant_type":"client_credentials","client_id":"` + postID + `","client_secret":"` + postSecret + `","audience":""}`, "audience=" + url.QueryEscape(apiThings)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.ctype, tc.body, func(req *http.Request) { req.URL.RawQuery = tc.query })
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
		})
	}
}

func TestPrivateKeyJWT(t *testing.T) {
	e := newEnv(t, envOptions{listen: true, alg: "ES256"})
	for _, tc := range []struct {
		name string
		spec assertionSpec
	}{
		{"ES256", assertionSpec{alg: jwa.ES256, key: e.ecKey, kid: "ec-1", exp: time.Minute}},
		{"PS256 on the key pinned to it", assertionSpec{alg: jwa.PS256, key: e.rsaKey, kid: "rsa-1", exp: time.Minute}},
		{"EdDSA without a kid", assertionSpec{alg: jwa.EdDSA, key: e.edKey, exp: time.Minute}},
		{"aud is the issuer", assertionSpec{exp: time.Minute, aud: []string{"x", e.issuer}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.spec.alg == "" {
				tc.spec.alg, tc.spec.key, tc.spec.kid = jwa.ES256, e.ecKey, "ec-1"
			}
			r := e.form(jwtForm(e.assertion(tc.spec)), nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			e.checkToken(r.str("access_token"), jwtID, apiThings, "read:things write:things", 3600)
		})
	}
}

// TestErrors has one case per error the endpoint answers: the status and
// code of API.md B.4/F.1, the no-store headers, and the Basic challenge
// exactly when the client used Basic.
// authFailedDesc is what every failed credential check says.
const authFailedDesc = "client authentication failed"

func TestErrors(t *testing.T) {
	e := newEnv(t, envOptions{listen: true})
	basic := func(id, secret string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
	}
	replayed := e.assertion(assertionSpec{exp: time.Minute})
	if r := e.form(jwtForm(replayed), nil); r.status != 200 {
		t.Fatalf("first use of the assertion: %d %s", r.status, r.raw)
	}
	hs256 := func() string {
		return e.assertion(assertionSpec{alg: jwa.HS256, key: []byte(postSecret + postSecret), exp: time.Minute})
	}
	noneAlg := func() string {
		enc := base64.RawURLEncoding.EncodeToString
		claims, _ := json.Marshal(map[string]any{"iss": jwtID, "sub": jwtID, "aud": e.tokenURL, "exp": time.Now().Add(time.Minute).Unix(), "jti": "none-1"})
		return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(claims) + "."
	}
	unknown := e.form(postForm("client_id", "nobody"), nil)
	big := postForm()
	big.Set("padding", strings.Repeat("x", DefaultMaxBodyBytes))

	for _, tc := range []struct {
		name        string
		ctype, body string
		edit        func(*http.Request)
		status      int
		code        string
		challenge   bool
		descHas     string
		// lookAlike: a failure that involves a client record answers
		// exactly what an unknown client gets (no client enumeration).
		lookAlike bool
	}{
		// invalid_client (401)
		{name: "unknown client", body: postForm("client_id", "nobody").Encode(), status: 401, code: "invalid_client", lookAlike: true},
		{name: "bad secret", body: postForm("client_secret", "wrong").Encode(), status: 401, code: "invalid_client", lookAlike: true},
		{name: "bad secret over Basic", body: "grant_type=client_credentials&audience=" + url.QueryEscape(apiThings),
			edit: basic(basicID, "wrong"), status: 401, code: "invalid_client", challenge: true, lookAlike: true},
		// (client_secret_basic and client_secret_post pass for each other:
		// TestSecretTransportsAreInterchangeable.)
		{name: "Basic for a private_key_jwt client", body: "grant_type=client_credentials&audience=" + url.QueryEscape(apiThings),
			edit: basic(jwtID, postSecret), status: 401, code: "invalid_client", challenge: true, descHas: authFailedDesc, lookAlike: true},
		{name: "body secret for a public client", body: postForm("client_id", publicID).Encode(),
			status: 401, code: "invalid_client", descHas: authFailedDesc, lookAlike: true},
		{name: "Basic credentials not form-urlencoded", body: "grant_type=client_credentials",
			edit: func(r *http.Request) { r.SetBasicAuth("bad%zz", "x") }, status: 401, code: "invalid_client", challenge: true},
		{name: "Bearer instead of Basic", body: "grant_type=client_credentials",
			edit: func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }, status: 401, code: "invalid_client", challenge: true},
		{name: "unknown client over Basic", body: "grant_type=client_credentials",
			edit: basic("nobody", "x"), status: 401, code: "invalid_client", challenge: true, lookAlike: true},
		{name: "assertion naming an unknown client", body: jwtForm(e.assertion(assertionSpec{exp: time.Minute, iss: "nobody"})).Encode(),
			status: 401, code: "invalid_client", lookAlike: true},
		{name: "no credentials", body: "grant_type=client_credentials&client_id=" + postID, status: 401, code: "invalid_client", lookAlike: true},
		{name: "replayed jti", body: jwtForm(replayed).Encode(), status: 401, code: "invalid_client", descHas: "already used"},
		{name: "expired assertion", body: jwtForm(e.assertion(assertionSpec{exp: -time.Hour})).Encode(), status: 401, code: "invalid_client", descHas: "expired"},
		{name: "assertion without exp", body: jwtForm(e.assertion(assertionSpec{})).Encode(), status: 401, code: "invalid_client", descHas: "exp"},
		{name: "assertion exp too far ahead", body: jwtForm(e.assertion(assertionSpec{exp: time.Hour})).Encode(), status: 401, code: "invalid_client"},
		{name: "assertion for another audience", body: jwtForm(e.assertion(assertionSpec{exp: time.Minute, aud: []string{"https://elsewhere/oauth/token"}})).Encode(),
			status: 401, code: "invalid_client", descHas: "aud"},
		{name: "assertion alg none", body: jwtForm(noneAlg()).Encode(), status: 401, code: "invalid_client", descHas: "none"},
		{name: "assertion alg HS256", body: jwtForm(hs256()).Encode(), status: 401, code: "invalid_client", descHas: "HS256"},
		{name: "assertion signed by an unregistered key", body: jwtForm(e.assertion(assertionSpec{alg: jwa.ES256, key: mustEC(), kid: "ec-1", exp: time.Minute})).Encode(),
			status: 401, code: "invalid_client", descHas: authFailedDesc, lookAlike: true},
		{name: "assertion alg not the key's pinned alg", body: jwtForm(e.assertion(assertionSpec{alg: jwa.RS256, key: e.rsaKey, kid: "rsa-1", exp: time.Minute})).Encode(),
			status: 401, code: "invalid_client", descHas: authFailedDesc, lookAlike: true},
		{name: "assertion iss differs from sub", body: jwtForm(e.assertion(assertionSpec{exp: time.Minute, sub: postID})).Encode(), status: 401, code: "invalid_client"},
		{name: "assertion of a client_secret_post client", body: jwtForm(e.assertion(assertionSpec{exp: time.Minute, iss: postID})).Encode(),
			status: 401, code: "invalid_client", descHas: authFailedDesc, lookAlike: true},

		// invalid_request (400; 413 for the body)
		{name: "missing grant_type", body: "client_id=" + postID + "&client_secret=" + postSecret, status: 400, code: "invalid_request", descHas: "grant_type"},
		{name: "duplicate parameter", body: postForm().Encode() + "&audience=" + url.QueryEscape(apiOther), status: 400, code: "invalid_request", descHas: "audience"},
		{name: "duplicate across body and query", body: postForm().Encode(),
			edit: func(r *http.Request) { r.URL.RawQuery = "client_id=" + postID }, status: 400, code: "invalid_request", descHas: "client_id"},
		{name: "Basic and body credentials", body: postForm().Encode(), edit: basic(postID, postSecret), status: 400, code: "invalid_request", descHas: "more than one"},
		{name: "secret and assertion", body: postForm("client_assertion", "x", "client_assertion_type", AssertionTypeJWTBearer).Encode(), status: 400, code: "invalid_request"},
		{name: "unsupported content type", ctype: "text/plain", body: postForm().Encode(), status: 400, code: "invalid_request", descHas: "Content-Type"},
		{name: "malformed JSON", ctype: "application/json", body: `{"grant_type":"client_credentials",`, status: 400, code: "invalid_request", descHas: "JSON"},
		{name: "JSON array value", ctype: "application/json", body: `{"grant_type":"client_credentials","scope":["a"]}`, status: 400, code: "invalid_request", descHas: "scope"},
		{name: "duplicate JSON member", ctype: "application/json", body: `{"grant_type":"client_credentials","grant_type":"password"}`, status: 400, code: "invalid_request"},
		{name: "oversized body", body: big.Encode(), status: 413, code: "invalid_request"},
		{name: "no audience and no default", body: postForm("audience", "").Encode(), status: 400, code: "invalid_request", descHas: "audience"},

		// the grant's own errors
		{name: "unauthorized_client", body: postForm("client_id", noCCID).Encode(), status: 400, code: "unauthorized_client"},
		{name: "public client", body: "grant_type=client_credentials&audience=" + url.QueryEscape(apiThings) + "&client_id=" + publicID, status: 400, code: "unauthorized_client"},
		{name: "access_denied without a grant", body: postForm("client_id", noGrantID).Encode(), status: 400, code: "access_denied"},
		{name: "access_denied for another API", body: postForm("audience", apiOther).Encode(), status: 400, code: "access_denied"},
		{name: "invalid_scope: a character RFC 6749 §3.3 excludes", body: postForm("scope", `read:things "x"`).Encode(), status: 400, code: "invalid_scope", descHas: "does not allow"},
		{name: "invalid_scope: nothing requested is granted", body: postForm("scope", "delete:things admin").Encode(), status: 400, code: "invalid_scope", descHas: "none of the requested scopes"},
		{name: "invalid_target", body: postForm("audience", "https://api.test/unknown").Encode(), status: 400, code: "invalid_target"},
		{name: "unsupported_grant_type", body: postForm("grant_type", "urn:example:magic").Encode(), status: 400, code: "unsupported_grant_type"},
		{name: "authorization_code not implemented", body: postForm("grant_type", "authorization_code").Encode(), status: 400, code: "unsupported_grant_type", descHas: "not implemented yet"},
		{name: "password-realm (authok.io) not implemented", body: postForm("grant_type", "http://authok.io/oauth/grant-type/password-realm").Encode(),
			status: 400, code: "unsupported_grant_type", descHas: "http://authok.cn/oauth/grant-type/password-realm is not implemented yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctype := tc.ctype
			if ctype == "" {
				ctype = "application/x-www-form-urlencoded"
			}
			r := e.do(ctype, tc.body, tc.edit)
			if r.status != tc.status || r.str("error") != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.status, tc.code)
			}
			checkHeaders(t, r)
			if got := r.header.Get("WWW-Authenticate"); (got != "") != tc.challenge || tc.challenge && !strings.HasPrefix(got, `Basic realm="`) {
				t.Errorf("WWW-Authenticate %q (want a Basic challenge: %v)", got, tc.challenge)
			}
			if !strings.Contains(r.str("error_description"), tc.descHas) {
				t.Errorf("error_description %q does not mention %q", r.str("error_description"), tc.descHas)
			}
			if tc.lookAlike && r.raw != unknown.raw {
				t.Errorf("body %s differs from an unknown client's %s", r.raw, unknown.raw)
			}
			for _, s := range []string{postSecret, basicSecret} {
				if strings.Contains(r.raw, s) {
					t.Errorf("the response echoes a secret: %s", r.raw)
				}
			}
		})
	}
}

func mustEC() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// Changes written to the store are seen by the very next request: no
// stale cache on the hot path.
func TestChangesApplyToTheNextRequest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{listen: true})
	ok := func(v url.Values) response {
		t.Helper()
		r := e.form(v, nil)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		return r
	}
	fails := func(v url.Values, status int, code string) {
		t.Helper()
		if r := e.form(v, nil); r.status != status || r.str("error") != code {
			t.Fatalf("got %d %s, want %d %s", r.status, r.raw, status, code)
		}
	}
	first := ok(postForm())

	// A new scope list on the grant.
	if _, err := e.repo.UpdateClientGrant(ctx, tenantName, "cg_a", func(g model.ClientGrant) (model.ClientGrant, error) {
		g.Scope = []string{"read:things"}
		return g, nil
	}); err != nil {
		t.Fatal(err)
	}
	if r := ok(postForm()); r.str("scope") != "read:things" {
		t.Fatalf("scope after the grant changed: %q", r.str("scope"))
	}
	fails(postForm("scope", "write:things"), 400, "invalid_scope")

	// A rotated secret.
	if _, err := e.repo.UpdateClient(ctx, tenantName, postID, func(c model.Client) (model.Client, error) {
		c.ClientSecret = "rotated-secret-0123456789abcdef"
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	fails(postForm(), 401, "invalid_client")
	ok(postForm("client_secret", "rotated-secret-0123456789abcdef"))

	// The client loses the grant type.
	if _, err := e.repo.UpdateClient(ctx, tenantName, postID, func(c model.Client) (model.Client, error) {
		c.GrantTypes = []string{model.GrantTypeAuthorizationCode}
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	fails(postForm("client_secret", "rotated-secret-0123456789abcdef"), 400, "unauthorized_client")
	if _, err := e.repo.UpdateClient(ctx, tenantName, postID, func(c model.Client) (model.Client, error) {
		c.GrantTypes = []string{model.GrantTypeClientCredentials}
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}

	// The API's token lifetime.
	if _, err := e.repo.UpdateResourceServer(ctx, tenantName, "rs-things", func(rs model.ResourceServer) (model.ResourceServer, error) {
		rs.TokenLifetime = 120
		return rs, nil
	}); err != nil {
		t.Fatal(err)
	}
	if r := ok(postForm("client_secret", "rotated-secret-0123456789abcdef")); r.body["expires_in"] != float64(120) {
		t.Fatalf("expires_in %v after the API changed", r.body["expires_in"])
	}

	// A key rotation: the next token is signed with the new current key.
	if _, err := e.keys.Rotate(ctx, tenantName); err != nil {
		t.Fatal(err)
	}
	r := ok(postForm("client_secret", "rotated-secret-0123456789abcdef"))
	if kidOf(r.str("access_token")) == kidOf(first.str("access_token")) {
		t.Fatal("a token issued after the rotation has the old kid")
	}
	e.verify(r.str("access_token"), apiThings)

	// The grant is deleted.
	if err := e.repo.DeleteClientGrant(ctx, tenantName, "cg_a"); err != nil {
		t.Fatal(err)
	}
	fails(postForm("client_secret", "rotated-secret-0123456789abcdef"), 400, "access_denied")
}

// A warm edge issues tokens with no store read and no store write, and
// records the log event in memory only.
func TestWarmRequestsReadAndWriteNothing(t *testing.T) {
	e := newEnv(t, envOptions{listen: true})
	e.form(postForm(), nil) // warm
	gets, applies, buffered := e.src.gets.Load(), e.applier.applies.Load(), e.logs.Buffered()
	for range 20 {
		if r := e.form(postForm(), nil); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	}
	if n := e.src.gets.Load() - gets; n != 0 {
		t.Errorf("warm requests read the store %d times", n)
	}
	if n := e.applier.applies.Load() - applies; n != 0 {
		t.Errorf("warm requests wrote to the store %d times", n)
	}
	if n := e.logs.Buffered() - buffered; n != 20 {
		t.Errorf("%d log events buffered for 20 requests", n)
	}
}

// The log events of a success and a failure, as the shipper stores them.
func TestLogEvents(t *testing.T) {
	e := newEnv(t, envOptions{listen: true})
	e.form(postForm("scope", "read:things"), func(r *http.Request) { r.Header.Set("User-Agent", "m2m-test/1.0") })
	e.form(postForm("client_secret", "wrong"), nil)
	if err := e.logs.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	events, err := logship.Events(e.st, tenantName, 10)
	if err != nil || len(events) != 2 {
		t.Fatalf("%d events, %v", len(events), err)
	}
	var ok, failed map[string]any
	json.Unmarshal(events[0], &ok)
	json.Unmarshal(events[1], &failed)
	for k, want := range map[string]any{
		"type": "exchange_success", "client_id": postID, "client_name": "Post machine", "audience": apiThings,
		"scope": "read:things", "ip": "127.0.0.1", "hostname": e.host, "user_agent": "m2m-test/1.0",
		"description": "Client Credentials for Access Token",
	} {
		if ok[k] != want {
			t.Errorf("success event %s = %v, want %v", k, ok[k], want)
		}
	}
	if d, _ := ok["details"].(map[string]any); d["grant_type"] != "client_credentials" {
		t.Errorf("success details %v", ok["details"])
	}
	// The tenant's log says why; the caller was told only that it failed.
	if failed["type"] != "exchange_failed" || failed["client_id"] != postID || failed["description"] != "client secret does not match" {
		t.Errorf("failure event %v", failed)
	}
	if d, _ := failed["details"].(map[string]any); d["error"] != "invalid_client" || d["grant_type"] != "client_credentials" {
		t.Errorf("failure details %v", failed["details"])
	}
	for _, ev := range events {
		if strings.Contains(string(ev), postSecret) || strings.Contains(string(ev), "wrong") {
			t.Errorf("a log event holds a secret: %s", ev)
		}
	}
}

// The Management API's identifier is reachable under every spelling API.md
// A.2 lists, and the tenant's default_audience applies when none is sent.
func TestAudienceSpellingsAndDefault(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{listen: true})
	mgmt := e.issuer + "api/v1/"
	if _, err := e.repo.CreateResourceServer(ctx, tenantName, model.ResourceServer{ID: "rs-mgmt", Name: model.ManagementAPIName, Identifier: mgmt, IsSystem: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.repo.CreateClientGrant(ctx, tenantName, model.ClientGrant{ID: "cg_m", ClientID: postID, Audience: mgmt, Scope: []string{"read:clients"}}); err != nil {
		t.Fatal(err)
	}
	for _, aud := range []string{mgmt, e.issuer + "api/v1", e.issuer + "api/v2/", e.issuer + "api/v2"} {
		r := e.form(postForm("audience", aud), nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", aud, r.status, r.raw)
		}
		e.checkToken(r.str("access_token"), postID, mgmt, "read:clients", int64(model.DefaultTokenLifetime))
	}
	if _, err := e.repo.UpdateTenant(ctx, tenantName, func(tn model.Tenant) (model.Tenant, error) {
		tn.DefaultAudience = apiThings
		return tn, nil
	}); err != nil {
		t.Fatal(err)
	}
	r := e.form(postForm("audience", ""), nil)
	if r.status != 200 {
		t.Fatalf("default audience: %d %s", r.status, r.raw)
	}
	e.verify(r.str("access_token"), apiThings)
}

func TestSigningAlgOfTheAPI(t *testing.T) {
	t.Run("HS256 is not supported yet", func(t *testing.T) {
		e := newEnv(t, envOptions{listen: true, alg: "HS256"})
		r := e.form(postForm(), nil)
		if r.status != 500 || r.str("error") != "server_error" || !strings.Contains(r.str("error_description"), "not supported yet") {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		checkHeaders(t, r)
	})
	for _, alg := range tokens.Algs {
		t.Run(string(alg), func(t *testing.T) {
			e := newEnv(t, envOptions{listen: true, alg: string(alg)})
			r := e.form(postForm(), nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			h, _, _ := strings.Cut(r.str("access_token"), ".")
			raw, _ := base64.RawURLEncoding.DecodeString(h)
			if !strings.Contains(string(raw), `"alg":"`+string(alg)+`"`) {
				t.Fatalf("header %s", raw)
			}
			e.checkToken(r.str("access_token"), postID, apiThings, "read:things write:things", 3600)
		})
	}
}

// Tokens issued by concurrent requests while the keys rotate and the
// client's secret rotates: no request fails for any other reason, every
// token verifies, and once a rotation has returned no token carries the
// retired kid.
func TestConcurrentIssuanceWhileRotating(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	before, err := e.dir.Signer(tenantName, tokens.RS256)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		issued  []string
		stop    atomic.Bool
		rotated atomic.Bool
		// Tokens issued before the rotation started and after it returned.
		early, late atomic.Int64
	)
	defer stop.Store(true)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx := e.requestCtx(postForm())
			for !stop.Load() {
				wasRotated := rotated.Load()
				rctx.Response.Reset()
				e.h.Serve(rctx)
				if rctx.Response.StatusCode() != 200 {
					t.Errorf("%d %s", rctx.Response.StatusCode(), rctx.Response.Body())
					return
				}
				var body struct {
					AccessToken string `json:"access_token"`
				}
				json.Unmarshal(rctx.Response.Body(), &body)
				if wasRotated && kidOf(body.AccessToken) == before.KID() {
					t.Error("a token issued after the rotation returned carries the retired kid")
					return
				}
				mu.Lock()
				issued = append(issued, body.AccessToken)
				mu.Unlock()
				if wasRotated {
					late.Add(1)
				} else {
					early.Add(1)
				}
			}
		}()
	}
	// Counts, not sleeps: a slow machine still issues with both keys.
	waitFor(t, func() bool { return early.Load() >= 16 })
	if _, err := e.keys.Rotate(ctx, tenantName); err != nil {
		t.Fatal(err)
	}
	rotated.Store(true)
	waitFor(t, func() bool { return late.Load() >= 16 })
	stop.Store(true)
	wg.Wait()
	kids := map[string]bool{}
	set := e.keySet()
	for i, tok := range issued {
		kid := kidOf(tok)
		if !kids[kid] || i%16 == 0 { // every kid, and a sample of the rest
			e.verifyWith(set, tok, apiThings)
		}
		kids[kid] = true
	}
	if len(issued) < 8 || len(kids) != 2 {
		t.Fatalf("%d tokens signed by %d keys, want both the retired and the new key", len(issued), len(kids))
	}
}

// waitFor polls cond until it holds, failing the test after 30 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
	}
}

func kidOf(tok string) string {
	h, _, _ := strings.Cut(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(h)
	var hdr struct{ Kid string }
	json.Unmarshal(raw, &hdr)
	return hdr.Kid
}
