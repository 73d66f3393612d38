// Package token is the edge's token endpoint, POST /oauth/token (RFC 6749
// §3.2, §4.4, §5; API.md B.2, B.4, F.1).
//
// # Shape
//
// Handler.Serve is the dispatcher and owns every phase grants share, so no
// grant can skip one: resolve the tenant from the Host (shared/directory),
// parse the parameters, pick the grant type, authenticate the client,
// check that the client lists the grant type, run the grant, run the
// trigger's Actions on what the grant decided, sign, write the response
// or the RFC 6749 §5.2 error, and record the log event. A grant is a
// small interface (grants.go) with one file per grant type, as in dex:
// clientcredentials.go today. A grant signs nothing: it returns a
// decision (subject, audience, scope, custom claims, the API's algorithm
// and lifetime, gty) or an *oauth2.Error; the dispatcher adds the claims
// it owns (iss, client_id and azp, jti, iat, exp) and mints the token. The
// other grant types of API.md B.4 (authorization_code, refresh_token,
// password, the http://authok.cn/oauth/grant-type/... URIs with their
// authok.io and authok.com spellings, device_code, token-exchange) are
// known and answered with unsupported_grant_type saying they are not
// implemented yet; an unknown grant type is unsupported_grant_type too.
//
// Errors are shared/oauth2's type, the one both planes answer with: a
// code, a status, a description for the body and a debug text for the
// tenant's log only.
//
// # Actions
//
// Between the decision and signing, the dispatcher hands the
// credentials-exchange trigger (API.md D.1) an ExchangeEvent (D.2: the
// client, the API, the request without the client's credentials, the
// decided scope) through the Actions interface of Config, which
// actions-runtime implements; nil, the default, skips the phase, and a
// runtime with nothing bound costs no allocation (the event lives in the
// pooled request). The commands come back in order and the dispatcher
// applies and validates them (D.3): SetCustomClaim adds a claim, plain or
// namespaced as in Auth0, except a registered claim (iss, sub, aud, exp,
// iat, jti, scope, azp, client_id, gty, nbf and Auth0's restricted list)
// or a reserved namespace (auth0.com, webtask.io, webtask.run, the authok
// domains, urn:auth0, urn:authok), all custom claims within
// MaxCustomClaimsBytes; AddScope and RemoveScope edit the scope;
// AccessDenied ends the request with access_denied and the reason as
// error_description. A command that breaks a rule, or an action that
// fails, fails the request with server_error "a credentials-exchange
// action failed", naming nothing; the tenant's exchange_failed event says
// which action and why.
//
// # Parameters
//
// The body is application/x-www-form-urlencoded or application/json; the
// query string is a last-resort fallback (API.md B.4). A parameter given
// twice is invalid_request (RFC 6749 §3.2), also across body and query; an
// empty value is absent and never hides a copy with a value. The query
// fallback refuses client_secret and client_assertion (RFC 6749 §2.3.1:
// credentials never in the URL), although seed 000's example puts them
// there.
//
// # Scope
//
// The token's scope is the client grant's scopes ∩ the requested ones
// (API.md B.4, E.1), all granted scopes when none is requested; a request
// none of whose scopes is granted is invalid_scope; credentials-exchange
// Actions may then add or remove scopes. The response states the issued
// scope (RFC 6749 §5.1), and omits it only when it is empty.
//
// # Client authentication
//
// client_secret_basic (form-urlencoded halves, RFC 6749 §2.3.1),
// client_secret_post, private_key_jwt (RFC 7523, single-use jti recorded in
// the store) and none (public clients, which client_credentials refuses).
// Exactly one method per request, matching the client's
// token_endpoint_auth_method, except that a client registered for either
// secret transport (client_secret_basic, client_secret_post) is accepted
// over either: the same secret in another place, as several servers do.
// private_key_jwt and none are strict; client_secret_jwt is answered
// invalid_client (not implemented). Secrets are compared in constant time.
// A client_id longer than model.MaxClientIDLength (the longest the
// Management API accepts) is an unknown client, refused before any lookup
// so that nothing of it is cached. Every failure that involves a client
// record (unknown client, other method, wrong secret, no keys, bad
// signature) answers the same "client authentication failed", so the
// endpoint does not reveal which clients exist or how they authenticate;
// the precise reason is in the tenant's exchange_failed log event ("client
// is registered for private_key_jwt; the request used
// client_secret_basic").
//
// # Hot path
//
// A warm client_credentials request with a secret reads only caches
// (tenant, client, API, grant, signer), writes nothing to the store, and
// allocates little: the parameters are parsed into pooled fasthttp.Args, the
// request state is pooled, and the response and claims are built by
// appending (no encoding/json). private_key_jwt is not a hot path: the
// replay check is a store write through the leader.
//
// # Log events
//
// Every request whose tenant is known yields an exchange_success or
// exchange_failed event (API.md C.11) handed to shared/logship, which
// encodes it in memory and ships it in the background. A failure without
// a known client (an unknown client_id, no credentials, a request refused
// before any client was named) carries its error code as aggregation key:
// logship records the first of a window and one summary with the count of
// the rest, since anyone can send those at any rate. A failure of a
// client that exists, authenticated or not, stays an event of its own. A
// Host no tenant serves yields no event (there is no tenant to log to).
//
// # Must never
//
// Never log or echo a secret, a client assertion or a token; never put an
// internal error's text in a response; never keep the *fasthttp.RequestCtx
// or its byte slices after Serve returns; never write to the store on the
// path of a secret-authenticated request; never import control/.
package token
