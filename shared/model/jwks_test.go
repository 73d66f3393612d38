package model

import (
	"encoding/json"
	"testing"
)

func TestJWKSJSON(t *testing.T) {
	b, err := json.Marshal(JWKS{})
	if err != nil || string(b) != `{"keys":[]}` {
		t.Fatalf("empty set: %s, %v", b, err)
	}
	in := Client{ClientID: "c", JWKS: &JWKS{Keys: []json.RawMessage{json.RawMessage(`{"kty":"EC","crv":"P-256","x":"x","y":"y"}`)}}}
	b, err = json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Client
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.JWKS == nil || len(out.JWKS.Keys) != 1 || string(out.JWKS.Keys[0]) != `{"kty":"EC","crv":"P-256","x":"x","y":"y"}` {
		t.Fatalf("round trip: %+v", out.JWKS)
	}
	// A client without keys has no jwks member.
	b, _ = json.Marshal(Client{})
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	if _, ok := m["jwks"]; ok {
		t.Error("zero client emits jwks")
	}
}
