package model

import (
	"encoding/json"
	"slices"
)

// Signing algorithms of a resource server (and of a client's ID tokens).
const (
	SigningAlgRS256 = "RS256"
	SigningAlgHS256 = "HS256"
	SigningAlgPS256 = "PS256"
	SigningAlgES256 = "ES256"
	SigningAlgEdDSA = "EdDSA"
)

// Token dialects of a resource server.
const (
	TokenDialectAccessToken      = "access_token"
	TokenDialectAccessTokenAuthz = "access_token_authz"
)

// Default token lifetimes of a resource server, in seconds.
const (
	DefaultTokenLifetime       = 86400
	DefaultTokenLifetimeForWeb = 7200
)

// ResourceServer is an API that access tokens are issued for (API.md C.3).
// Identifier is the audience; it is unique per tenant and immutable.
type ResourceServer struct {
	ID                                        string                `json:"id"`
	Name                                      string                `json:"name"`
	Identifier                                string                `json:"identifier"`
	IsSystem                                  bool                  `json:"is_system"`
	Scopes                                    []ResourceServerScope `json:"scopes"`
	SigningAlg                                string                `json:"signing_alg"`
	SigningSecret                             Secret                `json:"signing_secret,omitempty"`
	AllowOfflineAccess                        bool                  `json:"allow_offline_access"`
	SkipConsentForVerifiableFirstPartyClients bool                  `json:"skip_consent_for_verifiable_first_party_clients"`
	TokenLifetime                             int                   `json:"token_lifetime"`
	TokenLifetimeForWeb                       int                   `json:"token_lifetime_for_web"`
	EnforcePolicies                           bool                  `json:"enforce_policies"`
	TokenDialect                              string                `json:"token_dialect,omitempty"`
	VerificationLocation                      string                `json:"verificationLocation,omitempty"`
	Options                                   map[string]string     `json:"options,omitempty"`
	// Client is read-only: filled by the Management API, never stored.
	Client json.RawMessage `json:"client,omitempty"`

	// CreatedAt and UpdatedAt are stamped by the Management API.
	CreatedAt Time `json:"created_at,omitzero"`
	UpdatedAt Time `json:"updated_at,omitzero"`

	// Version is the store version of the record (the ETag).
	Version uint64 `json:"-"`
}

// ResourceServerScope is one scope a resource server defines.
type ResourceServerScope struct {
	Value       string `json:"value"`
	Description string `json:"description"`
}

// HasScope reports whether the resource server defines scope.
func (r ResourceServer) HasScope(scope string) bool {
	return slices.ContainsFunc(r.Scopes, func(s ResourceServerScope) bool { return s.Value == scope })
}

// MarshalJSON emits scopes as [] when there are none.
func (r ResourceServer) MarshalJSON() ([]byte, error) {
	type plain ResourceServer
	p := plain(r)
	p.Scopes = nonNil(p.Scopes)
	return json.Marshal(p)
}
