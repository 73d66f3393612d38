package mgmtapi_test

import (
	"slices"
	"testing"
)

// TestClientSecretBehindClientKeys: a client's secret is returned on
// create and rotate-secret, and by every other route that returns a
// client only to a token holding read:client_keys (Auth0's rule). Before,
// read:clients alone listed every secret, the management client's too.
func TestClientSecretBehindClientKeys(t *testing.T) {
	e := sharedEnv(t)
	const keys = "read:client_keys"
	// The catalogue bootstrap grants the management client (allScopes)
	// has the scope, so the tenant's own client can still read secrets.
	if !slices.Contains(allScopes, keys) {
		t.Fatalf("%s is not in the Management API scope catalogue", keys)
	}
	created := e.do(t, req{method: "POST", path: "/clients", token: e.token(t, "create:clients"),
		body: map[string]any{"name": e.unique("secret"), "app_type": "non_interactive"}})
	wantStatus(t, created, 201)
	c := created.object(t)
	id, _ := c["client_id"].(string)
	if s, _ := c["client_secret"].(string); len(s) != 64 {
		t.Fatalf("create without %s: client_secret = %v, want the new secret", keys, c["client_secret"])
	}

	tests := []struct {
		name       string
		r          req
		scopes     []string
		wantSecret bool
		list       bool
	}{
		{"list", req{path: "/clients"}, []string{"read:clients"}, false, true},
		{"list with keys", req{path: "/clients"}, []string{"read:clients", keys}, true, true},
		{"list fields=client_secret", req{path: "/clients?fields=client_id,client_secret"}, []string{"read:clients"}, false, true},
		{"get", req{path: "/clients/" + id}, []string{"read:clients"}, false, false},
		{"get with keys", req{path: "/clients/" + id}, []string{"read:clients", keys}, true, false},
		{"get the management client", req{path: "/clients/" + e.mgmtClient}, []string{"read:clients"}, false, false},
		{"get fields=client_secret", req{path: "/clients/" + id + "?fields=client_secret"}, []string{"read:clients"}, false, false},
		{"patch", req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"description": "p"}}, []string{"update:clients"}, false, false},
		{"patch with keys", req{method: "PATCH", path: "/clients/" + id, body: map[string]any{"description": "q"}}, []string{"update:clients", keys}, true, false},
		{"rotate", req{method: "POST", path: "/clients/" + id + "/rotate-secret"}, []string{"update:client_keys"}, true, false},
		{"create", req{method: "POST", path: "/clients", body: map[string]any{"name": e.unique("secret"), "app_type": "web"}}, []string{"create:clients"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.token = e.token(t, tt.scopes...)
			r := e.do(t, tt.r)
			if r.status != 200 && r.status != 201 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var clients []map[string]any
			if tt.list {
				var l struct {
					Items []map[string]any `json:"items"`
				}
				r.decode(t, &l)
				clients = l.Items
			} else {
				clients = []map[string]any{r.object(t)}
			}
			if len(clients) == 0 {
				t.Fatal("no client returned")
			}
			for _, cl := range clients {
				s, has := cl["client_secret"]
				if has != tt.wantSecret {
					t.Errorf("client %v: client_secret present = %v, want %v (scopes %v)", cl["client_id"], has, tt.wantSecret, tt.scopes)
				}
				if has && (s == "" || s == nil) {
					t.Errorf("client %v: client_secret = %q", cl["client_id"], s)
				}
			}
		})
	}
}
