package mgmtapi_test

import (
	"strings"
	"testing"
)

type signingKey struct {
	KID        string `json:"kid"`
	Cert       string `json:"cert"`
	Current    bool   `json:"current"`
	Next       bool   `json:"next"`
	Previous   bool   `json:"previous"`
	Revoked    bool   `json:"revoked"`
	Alg        string `json:"alg"`
	RevokedAt  string `json:"revoked_at"`
	Thumbprint string `json:"thumbprint"`
}

func TestSigningKeys(t *testing.T) {
	e := newEnv(t) // rotation changes what the shared env's tokens are signed with

	var list []signingKey
	r := e.do(t, req{path: "/keys/signing"})
	wantStatus(t, r, 200)
	r.decode(t, &list)
	if len(list) != 8 { // two generations of four algorithms
		t.Fatalf("%d keys: %s", len(list), r.body)
	}
	if strings.Contains(string(r.body), "PRIVATE") || strings.Contains(string(r.body), "pkcs8") || strings.Contains(string(r.body), `"d"`) {
		t.Fatal("private material in the listing")
	}
	var current, next signingKey
	for _, k := range list {
		if k.Alg == "RS256" && k.Current {
			current = k
		}
		if k.Alg == "RS256" && k.Next {
			next = k
		}
		if !strings.HasPrefix(k.Cert, "-----BEGIN CERTIFICATE-----") {
			t.Errorf("cert of %s", k.KID)
		}
	}
	if current.KID == "" || next.KID == "" {
		t.Fatalf("no current/next RS256 key in %s", r.body)
	}

	r = e.do(t, req{path: "/keys/signing/" + current.KID})
	wantStatus(t, r, 200)
	var got signingKey
	r.decode(t, &got)
	if got.KID != current.KID || !got.Current {
		t.Errorf("get = %+v", got)
	}
	wantError(t, e.do(t, req{path: "/keys/signing/no-such-kid"}), 404, "inexistent_signing_key")

	// The current key cannot be revoked.
	wantError(t, e.do(t, req{method: "PUT", path: "/keys/signing/" + current.KID + "/revoke"}), 400, "invalid_body", "current")

	// Rotate (both spellings): 201 with the new next RS256 key; next
	// became current.
	rotTok := e.token(t, "create:signing_keys", "update:signing_keys", "read:signing_keys")
	r = e.do(t, req{method: "POST", path: "/keys/signing/rotate", token: rotTok})
	wantStatus(t, r, 201)
	var fresh signingKey
	r.decode(t, &fresh)
	if !fresh.Next || fresh.Alg != "RS256" || fresh.KID == next.KID || fresh.KID == current.KID {
		t.Fatalf("rotate returned %+v", fresh)
	}
	r = e.do(t, req{path: "/keys/signing/" + next.KID, token: rotTok})
	r.decode(t, &got)
	if !got.Current {
		t.Errorf("old next is not current: %+v", got)
	}
	r = e.do(t, req{method: "POST", path: "/keys/rotate", token: e.token(t, "create:signing_keys", "update:signing_keys")})
	wantStatus(t, r, 201)

	// The original current key is now previous-of-previous: revoked by
	// the second rotation. Revoke the (old next, now previous) key.
	r = e.do(t, req{method: "PUT", path: "/keys/signing/" + next.KID + "/revoke"})
	wantStatus(t, r, 200)
	r.decode(t, &got)
	if !got.Revoked || got.RevokedAt == "" {
		t.Errorf("revoke returned %+v", got)
	}
	wantError(t, e.do(t, req{method: "PUT", path: "/keys/signing/" + next.KID + "/revoke"}), 400, "invalid_body", "already revoked")
	wantError(t, e.do(t, req{method: "PUT", path: "/keys/signing/no-such-kid/revoke"}), 404, "inexistent_signing_key")
}
