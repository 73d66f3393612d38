package token

import (
	"strings"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/oauth2"
)

// grant is one grant type, as in dex: it runs after the dispatcher has
// parsed the request, resolved the tenant, authenticated the client and
// checked that the client may use the grant type, and it fills r's issued
// token or returns the error to render. Response writing and log events
// stay with the dispatcher, so no grant can forget them.
type grant interface {
	exchange(h *Handler, r *request) *oauth2.Error
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
	add(model.GrantTypeClientCredentials, &grantType{canonical: model.GrantTypeClientCredentials, impl: clientCredentials{}})
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
