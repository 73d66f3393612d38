package model

import (
	"encoding/json"
)

// JWKS is a JSON Web Key Set (RFC 7517 §5) of public keys. Each key is
// kept verbatim (compact JSON) so members this server does not interpret
// survive a round trip; the Management API checks that every key parses
// and is public before storing the set.
type JWKS struct {
	Keys []json.RawMessage `json:"keys"`
}

// MarshalJSON emits keys as [] when there are none.
func (s JWKS) MarshalJSON() ([]byte, error) {
	type plain JWKS
	p := plain(s)
	p.Keys = nonNil(p.Keys)
	return json.Marshal(p)
}
