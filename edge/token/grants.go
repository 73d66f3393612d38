package token

import (
	"strings"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/oauth2"
	"github.com/authok-edge/authok/shared/tokens"
)

// grant is one grant type, as in dex: it runs after the dispatcher has
// parsed the request, resolved the tenant, authenticated the client and
// checked that the client may use the grant type, and it returns what it
// decided (the decision) or the error to render. It signs nothing and
// writes nothing: the dispatcher runs the trigger's Actions on the
// decision, then mints the token, writes the response and records the log
// event, so no grant can skip one of those phases. On error the decision
// holds what was decided before the failure (the audience), for the log.
type grant interface {
	exchange(h *Handler, r *request) (decision, *oauth2.Error)
}

// decision is what a grant decided the access token says (API.md E.1).
// The dispatcher owns the rest of the token: iss (the tenant's issuer),
// client_id and azp (the authenticated client), jti, iat and exp (from
// lifetime).
type decision struct {
	subject  string // sub: a user_id, or the client_id for client_credentials
	audience string // aud: the API's identifier
	scope    string // scope, space-separated; empty leaves the claim out
	// claims are the custom claims (Actions' setCustomClaim, org_id, ...),
	// validated by the dispatcher; nil on the hot path.
	claims      map[string]any
	claimsBytes int        // names and encoded values of claims
	alg         tokens.Alg // the API's signing_alg
	lifetime    int64      // seconds: exp - iat, and the response's expires_in
	gty         string     // gty: the grant marker
}

// apiToken is the algorithm and lifetime of the tokens of API rs: its
// signing_alg (RS256 when unset) and token_lifetime (the default when
// unset). An API whose algorithm has no signer is a server_error.
func apiToken(rs *model.ResourceServer) (tokens.Alg, int64, *oauth2.Error) {
	alg := tokens.RS256
	if rs.SigningAlg != "" {
		alg = tokens.Alg(rs.SigningAlg)
		if alg.Index() < 0 {
			// HS256 APIs (a signing_secret) have no signer yet.
			return "", 0, oauth2.ErrServerError.Withf("the API's signing_alg %s is not supported yet", printable([]byte(rs.SigningAlg)))
		}
	}
	lifetime := int64(rs.TokenLifetime)
	if lifetime <= 0 {
		lifetime = model.DefaultTokenLifetime
	}
	return alg, lifetime, nil
}

// grantType is an accepted grant_type value.
type grantType struct {
	// canonical is the spelling stored in a client's grant_types and in
	// log events (API.md B.4: the http://authok.cn form).
	canonical string
	// impl is nil for a grant type this build knows but does not
	// implement yet: it is refused with unsupported_grant_type and says
	// so.
	impl grant
	// why replaces the "not implemented yet" description.
	why string
	// trigger is the Actions trigger the dispatcher runs on the grant's
	// decision (API.md D.1); empty runs none.
	trigger string
}

// authokGrantURIs are the Authok extension grants, named by their path
// under http://authok.cn/oauth/grant-type/ (API.md B.4).
var authokGrantURIs = []string{
	model.GrantTypePasswordRealm,
	model.GrantTypePasswordlessOTP,
	model.GrantTypeMFAOTP,
	model.GrantTypeMFAOOB,
	model.GrantTypeMFARecoveryCode,
}

// Grant types of RFC 8693 (token exchange); the others have model
// constants.
const grantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// newGrantTypes builds the table of accepted grant_type values.
func newGrantTypes() map[string]*grantType {
	m := map[string]*grantType{}
	add := func(name string, g *grantType) { m[name] = g }
	add(model.GrantTypeClientCredentials, &grantType{canonical: model.GrantTypeClientCredentials, impl: clientCredentials{},
		trigger: TriggerCredentialsExchange})
	for _, name := range []string{
		model.GrantTypeAuthorizationCode,
		model.GrantTypeRefreshToken,
		model.GrantTypePassword,
		model.GrantTypeDeviceCode,
		grantTypeTokenExchange,
	} {
		add(name, &grantType{canonical: name})
	}
	add(model.GrantTypeImplicit, &grantType{canonical: model.GrantTypeImplicit,
		why: "implicit is not a token endpoint grant: implicit tokens come from /authorize (RFC 6749 §4.2)"})
	// The Authok URIs, with the authok.io (backend) and authok.com
	// (authok-node) spellings of the same grants.
	for _, uri := range authokGrantURIs {
		g := &grantType{canonical: uri}
		path := strings.TrimPrefix(uri, "http://authok.cn/")
		for _, host := range []string{"authok.cn", "authok.io", "authok.com"} {
			add("http://"+host+"/"+path, g)
		}
	}
	return m
}

// description of a known grant type this build refuses.
func (g *grantType) notImplemented() string {
	if g.why != "" {
		return g.why
	}
	return "grant type " + g.canonical + " is not implemented yet"
}
