package token

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/errors.golden from the handler's answers")

// TestErrorBodiesAreStable pins every error answer the endpoint gives
// today, byte for byte (status, WWW-Authenticate, body): the error type
// moved to shared/oauth2 and the grant shape changed without the wire
// changing. go test -run TestErrorBodiesAreStable -update rewrites the
// file after an intended change.
func TestErrorBodiesAreStable(t *testing.T) {
	e := newEnv(t, envOptions{host: "acme.test"})
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}
	form := func(v url.Values) string { return v.Encode() }
	aud := "grant_type=client_credentials&audience=" + url.QueryEscape(apiThings)
	cases := []struct {
		name, ctype, body, query, authz, host, encoding string
	}{
		{name: "unknown host", body: form(postForm()), host: "nobody.test"},
		{name: "unknown client", body: form(postForm("client_id", "nobody"))},
		{name: "bad secret", body: form(postForm("client_secret", "wrong"))},
		{name: "bad secret over Basic", body: aud, authz: basic(basicID, "wrong")},
		{name: "Basic for a private_key_jwt client", body: aud, authz: basic(jwtID, postSecret)},
		{name: "body secret for a public client", body: form(postForm("client_id", publicID))},
		{name: "Basic not form-urlencoded", body: "grant_type=client_credentials", authz: "Basic " + base64.StdEncoding.EncodeToString([]byte("bad%zz:x"))},
		{name: "Basic malformed", body: "grant_type=client_credentials", authz: "Basic !!!"},
		{name: "Bearer", body: "grant_type=client_credentials", authz: "Bearer abc"},
		{name: "Basic id differs from body", body: aud + "&client_id=other", authz: basic(basicID, basicSecret)},
		{name: "no credentials", body: "grant_type=client_credentials&client_id=" + postID},
		{name: "no client at all", body: "grant_type=client_credentials"},
		{name: "secret without client_id", body: "grant_type=client_credentials&client_secret=x"},
		{name: "too long client_id", body: form(postForm("client_id", strings.Repeat("c", 200)))},
		{name: "assertion without type", body: aud + "&client_assertion=x"},
		{name: "assertion of another type", body: aud + "&client_assertion=x&client_assertion_type=urn:x"},
		{name: "assertion not a JWS", body: form(jwtForm("abc"))},
		{name: "assertion expired", body: form(jwtForm(e.assertion(assertionSpec{exp: -time.Hour})))},
		{name: "assertion without exp", body: form(jwtForm(e.assertion(assertionSpec{})))},
		{name: "assertion exp far ahead", body: form(jwtForm(e.assertion(assertionSpec{exp: time.Hour})))},
		{name: "assertion iss differs from sub", body: form(jwtForm(e.assertion(assertionSpec{exp: time.Minute, sub: postID})))},
		{name: "assertion for another audience", body: form(jwtForm(e.assertion(assertionSpec{exp: time.Minute, aud: []string{"https://elsewhere/oauth/token"}})))},
		{name: "assertion of an unknown client", body: form(jwtForm(e.assertion(assertionSpec{exp: time.Minute, iss: "nobody"})))},
		{name: "missing grant_type", body: "client_id=" + postID + "&client_secret=" + postSecret},
		{name: "duplicate parameter", body: form(postForm()) + "&audience=x"},
		{name: "duplicate across body and query", body: form(postForm()), query: "client_id=" + postID},
		{name: "secret in the query", body: "grant_type=client_credentials", query: "client_secret=x"},
		{name: "two methods", body: form(postForm()), authz: basic(postID, postSecret)},
		{name: "text/plain", ctype: "text/plain", body: form(postForm())},
		{name: "no content type", ctype: "-", body: form(postForm())},
		{name: "compressed", body: form(postForm()), encoding: "gzip"},
		{name: "malformed JSON", ctype: "application/json", body: `{"grant_type":"client_credentials",`},
		{name: "JSON array value", ctype: "application/json", body: `{"grant_type":"client_credentials","scope":["a"]}`},
		{name: "oversized body", body: form(postForm("padding", strings.Repeat("x", DefaultMaxBodyBytes)))},
		{name: "no audience and no default", body: form(postForm("audience", ""))},
		{name: "unauthorized_client", body: form(postForm("client_id", noCCID))},
		{name: "public client", body: aud + "&client_id=" + publicID},
		{name: "no client grant", body: form(postForm("client_id", noGrantID))},
		{name: "no grant for another API", body: form(postForm("audience", apiOther))},
		{name: "scope with a quote", body: form(postForm("scope", `read:things "x"`))},
		{name: "scope with a backslash", body: form(postForm("scope", `a\b`))},
		{name: "scope not granted", body: form(postForm("scope", "delete:things admin"))},
		{name: "unknown audience", body: form(postForm("audience", "https://api.test/unknown"))},
		{name: "unknown grant type", body: form(postForm("grant_type", "urn:example:magic\x01"))},
		{name: "authorization_code", body: form(postForm("grant_type", "authorization_code"))},
		{name: "implicit", body: form(postForm("grant_type", "implicit"))},
		{name: "password-realm (authok.io)", body: form(postForm("grant_type", "http://authok.io/oauth/grant-type/password-realm"))},
	}
	var out bytes.Buffer
	for _, tc := range cases {
		var req fasthttp.Request
		req.Header.SetMethod(fasthttp.MethodPost)
		uri := "/oauth/token"
		if tc.query != "" {
			uri += "?" + tc.query
		}
		req.SetRequestURI(uri)
		req.Header.SetHost(cmp.Or(tc.host, e.host))
		switch tc.ctype {
		case "":
			req.Header.SetContentType("application/x-www-form-urlencoded")
		case "-":
		default:
			req.Header.SetContentType(tc.ctype)
		}
		if tc.authz != "" {
			req.Header.Set(fasthttp.HeaderAuthorization, tc.authz)
		}
		if tc.encoding != "" {
			req.Header.Set(fasthttp.HeaderContentEncoding, tc.encoding)
		}
		req.SetBodyString(tc.body)
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 3), Port: 40000}, nil)
		e.h.Serve(&ctx)
		fmt.Fprintf(&out, "%s\n%d %q\n%s\n\n", tc.name, ctx.Response.StatusCode(),
			ctx.Response.Header.Peek(fasthttp.HeaderWWWAuthenticate), ctx.Response.Body())
	}
	const path = "testdata/errors.golden"
	if *updateGolden {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Bytes(); !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%d lines, want %d", len(gl), len(wl))
	}
}
