package mgmtapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/model"
)

// authorize checks the bearer token (API.md A.2, RFC 6750) and that it
// holds every one of scopes (an entry "a|b" is held with a or b). It returns every scope the token holds, for
// operations whose answer depends on more than the route's scopes.
//
//   - no token: 401 invalid_token, WWW-Authenticate without an error code
//     (RFC 6750 §3.1: a request without credentials gets none);
//   - a token that does not verify: 401 invalid_token, error="invalid_token";
//   - a token without every scope: 403 insufficient_scope, with the scopes
//     needed in the challenge.
//
// Verification is against the resolved tenant's own keys, for its issuer
// and any spelling of its Management API identifier; why a token failed is
// logged at debug level, never sent.
func (a *API) authorize(w http.ResponseWriter, r *http.Request, t model.Tenant, scopes []string) ([]string, error) {
	issuer := t.Internal.Issuer
	realm := managementAudiences(issuer)[0]
	token, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q`, realm))
		return nil, apierror.New(http.StatusUnauthorized, codeInvalidToken, "Missing authentication: send Authorization: Bearer <access token>.")
	}
	claims, err := a.cfg.Verifier.Verify(t.Name, token, issuer, managementAudiences(issuer))
	if err != nil {
		a.cfg.Logger.Debug("mgmtapi: token rejected", "tenant", t.Name, "err", err)
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="invalid_token", error_description="The access token is invalid"`, realm))
		return nil, apierror.New(http.StatusUnauthorized, codeInvalidToken, "Invalid token.")
	}
	held := tokenScopes(claims)
	var lacking []string
	for _, s := range scopes {
		// "a|b": either scope will do.
		if !slices.ContainsFunc(strings.Split(s, "|"), func(alt string) bool { return slices.Contains(held, alt) }) {
			lacking = append(lacking, s)
		}
	}
	if len(lacking) > 0 {
		return nil, insufficientScope(w, t, scopes, "")
	}
	return held, nil
}

// insufficientScope is the 403 for a token that lacks some of scopes, all
// of which the operation needs, with the challenge of RFC 6750 §3.1 on w.
// why, when not empty, says what in the request asked for more than the
// route's scopes.
func insufficientScope(w http.ResponseWriter, t model.Tenant, scopes []string, why string) error {
	realm := managementAudiences(t.Internal.Issuer)[0]
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="insufficient_scope", scope=%q`, realm, strings.Join(scopes, " ")))
	msg := "Insufficient scope, expected all of: " + strings.Join(scopes, ", ")
	if why != "" {
		msg += " (" + why + ")"
	}
	return apierror.New(http.StatusForbidden, codeInsufficientScope, msg+".")
}

// bearer extracts the token of "Authorization: Bearer <token>" (the scheme
// is case-insensitive, RFC 9110 §11.1).
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// tokenScopes reads the scope claim: a space-separated string (RFC 8693
// §4.2, what our token endpoint issues), or an array of strings.
func tokenScopes(claims map[string]any) []string {
	switch v := claims["scope"].(type) {
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, s := range v {
			if str, ok := s.(string); ok {
				out = append(out, str)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}
