package mgmtapi

import (
	"encoding/json"
	"reflect"

	"github.com/authok-edge/authok/shared/model"
)

// Scopes over a client's credentials (Auth0's rule; both are in the API.md
// A.2 catalogue, so the bootstrap management client holds them).
const (
	// scopeReadClientKeys lets a token read client secrets.
	scopeReadClientKeys = "read:client_keys"
	// scopeUpdateClientKeys lets a token rotate a secret, set one, or
	// change how a client authenticates. update:clients alone must not:
	// whoever sets the management client's credentials holds every scope.
	scopeUpdateClientKeys = "update:client_keys"
)

// keyFieldsError is returned from an update closure when the PATCH would
// change key material and the token lacks update:client_keys; the handler
// turns it into the 403 (outside the closure, which may run again).
type keyFieldsError struct{ fields []string }

func (e *keyFieldsError) Error() string { return "mgmtapi: key fields need " + scopeUpdateClientKeys }

// keyFieldsChanged lists the members of a PATCH that touch how old
// authenticates at the token endpoint, nc being the client as it would be
// stored. client_secret counts whenever it is sent, whatever its value, so
// the answer is no oracle for the current secret; the others (public, and
// returned by reads) count only when their value would change, so an
// object read from the API can still be sent back unchanged.
func keyFieldsChanged(in *clientInput, old, nc model.Client) []string {
	var fields []string
	if in.Has("client_secret") {
		fields = append(fields, "client_secret")
	}
	if old.TokenEndpointAuthMethod != nc.TokenEndpointAuthMethod {
		fields = append(fields, "token_endpoint_auth_method")
	}
	if !sameJWKS(old.JWKS, nc.JWKS) {
		fields = append(fields, "jwks")
	}
	if old.EncryptionKey != nc.EncryptionKey {
		fields = append(fields, "encryption_key")
	}
	return fields
}

// sameJWKS reports whether two key sets hold the same keys in the same
// order, member order and spacing aside.
func sameJWKS(a, b *model.JWKS) bool {
	if a == nil || b == nil {
		return a == b
	}
	if len(a.Keys) != len(b.Keys) {
		return false
	}
	for i := range a.Keys {
		var ka, kb any
		if json.Unmarshal(a.Keys[i], &ka) != nil || json.Unmarshal(b.Keys[i], &kb) != nil || !reflect.DeepEqual(ka, kb) {
			return false
		}
	}
	return true
}
