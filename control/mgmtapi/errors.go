package mgmtapi

import (
	"errors"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"net/http"
	"strings"

	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/repo"
)

// errorCode values of this package (API.md A.4). The skeleton's own codes
// (not_found, method_not_allowed, request_entity_too_large,
// internal_error) live in apierror.
const (
	codeInvalidToken         = "invalid_token"
	codeInsufficientScope    = "insufficient_scope"
	codeOperationNotAllowed  = "operation_not_allowed"
	codeInexistentTenant     = "inexistent_tenant"
	codeInexistentClient     = "inexistent_client"
	codeInexistentRS         = "inexistent_resource_server"
	codeInexistentGrant      = "inexistent_client_grant"
	codeInexistentSigningKey = "inexistent_signing_key"
)

// Sentinel errors a SigningKeys implementation returns (wrapped) so the
// handlers can map them; KeysFromManager translates shared/keys' errors.
var (
	// ErrKeyNotFound: no key with that kid in the tenant (404).
	ErrKeyNotFound = errors.New("mgmtapi: signing key not found")
	// ErrKeyInvalid: the operation is not allowed on that key, e.g.
	// revoking the current key (400).
	ErrKeyInvalid = errors.New("mgmtapi: invalid signing key operation")
)

// what names a record for repository errors: its 404 code and noun.
type what struct {
	code string // errorCode of a 404
	noun string // "client", in messages
}

var (
	whatClient = what{codeInexistentClient, "client"}
	whatRS     = what{codeInexistentRS, "resource server"}
	whatGrant  = what{codeInexistentGrant, "client grant"}
	whatTenant = what{codeInexistentTenant, "tenant"}
)

// repoError maps a repository error to its API error (A.4): ErrNotFound →
// 404, ErrDuplicate → 409 conflict, ErrConflict → 409 conflict (the
// compare-and-swap kept losing), ErrInvalid → 400. An *apierror.Error
// (returned by an update closure) passes through; anything else is a 500.
func repoError(err error, w what, id string) error {
	var ae *apierror.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, repo.ErrNotFound):
		return rest.NotFound(w.code, "The %s does not exist.", w.noun)
	case errors.Is(err, repo.ErrDuplicate):
		return apierror.New(http.StatusConflict, rest.CodeConflict, fmt.Sprintf("The %s already exists.", w.noun))
	case errors.Is(err, repo.ErrConflict):
		return apierror.New(http.StatusConflict, rest.CodeConflict,
			fmt.Sprintf("The %s %q was changed by concurrent requests; retry.", w.noun, id))
	case errors.Is(err, repo.ErrInvalid):
		// The repository's text names the broken invariant and holds no
		// secret; keep what follows its sentinel.
		msg := err.Error()
		if i := strings.Index(msg, repo.ErrInvalid.Error()+": "); i >= 0 {
			msg = msg[i+len(repo.ErrInvalid.Error()+": "):]
		}
		return rest.BadRequest(rest.CodeInvalidBody, "Invalid %s: %s", w.noun, msg)
	}
	return err
}
