package model

import (
	"encoding/json"
	"slices"
)

// ClientGrant authorises a client to obtain tokens for an audience with the
// listed scopes through client_credentials (API.md C.10). The pair
// (ClientID, Audience) is unique per tenant; both are immutable.
type ClientGrant struct {
	ID       string   `json:"id"` // "cg_" + 24
	ClientID string   `json:"client_id"`
	Audience string   `json:"audience"`
	Scope    []string `json:"scope"`

	// CreatedAt and UpdatedAt are stamped by the Management API.
	CreatedAt Time `json:"created_at,omitzero"`
	UpdatedAt Time `json:"updated_at,omitzero"`

	// Version is the store version of the record (the ETag).
	Version uint64 `json:"-"`
}

// Allows reports whether the grant includes scope.
func (g ClientGrant) Allows(scope string) bool { return slices.Contains(g.Scope, scope) }

// MarshalJSON emits scope as [] when there is none.
func (g ClientGrant) MarshalJSON() ([]byte, error) {
	type plain ClientGrant
	p := plain(g)
	p.Scope = nonNil(p.Scope)
	return json.Marshal(p)
}
