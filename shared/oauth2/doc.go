// Package oauth2 is what every OAuth 2.0 endpoint of either plane shares:
// the error type of RFC 6749 §4.1.2.1 and §5.2 and the scope helpers of
// §3.3. The edge's token endpoint (edge/token) answers with it today;
// /authorize, the login pages, SAML and WS-Fed answer with the same type
// when they land, as every fosite handler answers with RFC6749Error.
//
// # Errors
//
// An *Error carries the code, the HTTP status (API.md B.4 and F.1: Authok
// answers access_denied with 400 where Auth0 answers 403), a description
// safe to show the client, an optional error_uri, an optional challenge
// scheme for WWW-Authenticate, and a debug text that names the precise
// cause for the tenant's log. The Err* values are the codes; their
// builders (With, Withf, WithDebug, ...) return copies, so nothing mutates
// a shared value. AppendJSON renders the body without reflection; each
// plane writes status and headers with its own server library (fasthttp
// at the edge, net/http on the control plane), so this package imports
// neither.
//
// # Scope
//
// ScopeTokens splits a scope value into its tokens (runs of spaces are
// tolerated), ValidScopeToken checks the §3.3 character set, ParseScope
// does both, AppendGranted computes requested ∩ granted in request order
// without allocating, and HasScope, AddScope and RemoveScope edit a scope
// value (the scope changes of Actions). They take strings and byte slices
// alike.
//
// # Must never
//
// Never put a debug text, an internal error's text or a secret in a body;
// never import edge/, control/ or a server library; never allocate in
// AppendJSON, ScopeTokens, ValidScopeToken, AppendGranted or HasScope
// beyond growing the caller's buffer.
package oauth2
