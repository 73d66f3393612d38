package token

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/logship"
	"github.com/authok-edge/authok/shared/model"
)

func basicAuth(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

// A client registered for either secret transport is authenticated by
// either: the same secret, sent in the Authorization header or the body.
func TestSecretTransportsAreInterchangeable(t *testing.T) {
	e := newEnv(t, envOptions{listen: true})
	noBodyCreds := url.Values{"grant_type": {"client_credentials"}, "audience": {apiThings}}
	for _, tc := range []struct {
		name, id string
		do       func() response
	}{
		{"client_secret_post client over Basic", postID, func() response { return e.form(noBodyCreds, basicAuth(postID, postSecret)) }},
		{"client_secret_post client in the body", postID, func() response { return e.form(postForm(), nil) }},
		{"client_secret_basic client in the body", basicID, func() response {
			return e.form(postForm("client_id", basicID, "client_secret", basicSecret), nil)
		}},
		{"client_secret_basic client over Basic", basicID, func() response { return e.form(noBodyCreds, basicAuth(basicID, basicSecret)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.do()
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			e.checkToken(r.str("access_token"), tc.id, apiThings, "read:things write:things", 3600)
		})
	}
}

// private_key_jwt and none stay strict. A client refused for its method
// gets the answer of an unknown client, to the byte, and the tenant's log
// event says why; so does an id longer than any client_id can be. The
// event's client_id is the one claimed (cut to the log's field limit).
func TestMethodRefusalsSayWhyInTheLog(t *testing.T) {
	e := newEnv(t, envOptions{listen: true})
	noBodyCreds := url.Values{"grant_type": {"client_credentials"}, "audience": {apiThings}}
	tooLong := strings.Repeat("c", 4<<10)
	for _, tc := range []struct {
		name, clientID, reason string
		do                     func() response
	}{
		// First: unknown clients' failures are aggregated in the log, so
		// this one must be the first of its window.
		{"a client_id longer than any can be", tooLong[:model.MaxClientIDLength], // the event's is cut
			"unknown client (the client_id is longer than 128 bytes)",
			func() response { return e.form(postForm("client_id", tooLong), nil) }},
		{"Basic for a private_key_jwt client", jwtID,
			"client is registered for private_key_jwt; the request used client_secret_basic",
			func() response { return e.form(noBodyCreds, basicAuth(jwtID, postSecret)) }},
		{"body secret for a private_key_jwt client", jwtID,
			"client is registered for private_key_jwt; the request used client_secret_post",
			func() response { return e.form(postForm("client_id", jwtID), nil) }},
		{"body secret for a public client", publicID,
			"client is registered for none; the request used client_secret_post",
			func() response { return e.form(postForm("client_id", publicID), nil) }},
		{"Basic for a public client", publicID,
			"client is registered for none; the request used client_secret_basic",
			func() response { return e.form(noBodyCreds, basicAuth(publicID, postSecret)) }},
		{"assertion for a client_secret_post client", postID,
			"client is registered for client_secret_post; the request used private_key_jwt",
			func() response {
				return e.form(jwtForm(e.assertion(assertionSpec{exp: time.Minute, iss: postID})), nil)
			}},
		{"no credentials for a client_secret_basic client", basicID,
			"client is registered for client_secret_basic; the request sent no client credentials",
			func() response {
				return e.form(url.Values{"grant_type": {"client_credentials"}, "client_id": {basicID}}, nil)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.do()
			unknown := e.form(postForm("client_id", "nobody"), nil)
			if r.status != 401 || r.raw != unknown.raw {
				t.Fatalf("%d %s; want the unknown client's %d %s", r.status, r.raw, unknown.status, unknown.raw)
			}
			if err := e.logs.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			events, err := logship.Events(e.st, tenantName, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, raw := range events {
				var ev map[string]any
				json.Unmarshal(raw, &ev)
				if ev["description"] == tc.reason {
					if id, _ := ev["client_id"].(string); ev["type"] != "exchange_failed" || !strings.HasPrefix(id, tc.clientID) {
						t.Fatalf("event %s", raw)
					}
					return
				}
			}
			t.Fatalf("no event says %q among %d", tc.reason, len(events))
		})
	}
}
