package mgmtapi

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/model"
)

// Enumerations of the Client object (API.md C.2).
var (
	appTypes = []string{model.AppTypeNonInteractive, model.AppTypeNative, model.AppTypeWeb, model.AppTypeSPA}

	// appTypeAliases are Auth0's spellings, accepted on write and in the
	// app_type filter and stored (so emitted) as Authok's.
	appTypeAliases = map[string]string{"regular_web": model.AppTypeWeb}
	// appTypesAccepted is what a body or filter may send.
	appTypesAccepted = append(slices.Clone(appTypes), "regular_web")

	authMethods = []string{
		model.AuthMethodClientSecretBasic, model.AuthMethodClientSecretJWT, model.AuthMethodClientSecretPost,
		model.AuthMethodPrivateKeyJWT, model.AuthMethodNone,
	}

	grantTypes = []string{
		model.GrantTypeAuthorizationCode, model.GrantTypeImplicit, model.GrantTypeRefreshToken,
		model.GrantTypeClientCredentials, model.GrantTypePassword, model.GrantTypePasswordRealm,
		model.GrantTypeMFAOOB, model.GrantTypeMFAOTP, model.GrantTypePasswordlessOTP,
		model.GrantTypeMFARecoveryCode, model.GrantTypeDeviceCode,
	}

	responseTypes = []string{"code", "token", "id_token", "id_token token", "code id_token", "code token", "code id_token token"}

	organizationUsages   = []string{model.OrganizationUsageDeny, model.OrganizationUsageAllow, model.OrganizationUsageRequire}
	organizationBehavior = []string{model.OrganizationRequireNoPrompt, model.OrganizationRequirePreLoginPrompt}
	rotationTypes        = []string{model.RotationTypeRotating, model.RotationTypeNonRotating}
	expirationTypes      = []string{model.ExpirationTypeExpiring, model.ExpirationTypeNonExpiring}

	// tokenAlgs are the asymmetric algorithms tokens can be signed with;
	// HS256 is refused with its own message until it is implemented.
	tokenAlgs = []string{model.SigningAlgRS256, model.SigningAlgPS256, model.SigningAlgES256, model.SigningAlgEdDSA}
)

// normalizeGrantType maps the authok.io and authok.com spellings of the
// Authok grant-type URIs to the canonical authok.cn one (API.md top).
func normalizeGrantType(g string) string {
	for _, host := range []string{"http://authok.io/", "http://authok.com/", "https://authok.io/", "https://authok.com/", "https://authok.cn/"} {
		if rest, ok := strings.CutPrefix(g, host); ok {
			return "http://authok.cn/" + rest
		}
	}
	return g
}

var clientListSpec = &rest.ListSpec{
	Fields: []string{
		"client_id", "client_secret", "tenant", "name", "display_name", "description", "logo_uri",
		"app_type", "is_first_party", "oidc_conformant", "response_types", "grant_types",
		"token_endpoint_auth_method", "redirect_uris", "allowed_origins", "web_origins",
		"client_aliases", "allowed_clients", "allowed_logout_urls", "jwt_configuration",
		"encryption_key", "sso", "sso_disabled", "cross_origin_auth", "cross_origin_loc",
		"custom_login_page_on", "custom_login_page", "custom_login_page_preview", "form_template",
		"addons", "client_metadata", "mobile", "initiate_login_uri", "native_social_login",
		"refresh_token", "organization_usage", "organization_require_behavior",
		"is_token_endpoint_ip_header_trusted", "signing_keys", "jwks", "created_at", "updated_at",
		"callbacks", "cross_origin_authentication",
	},
	Sortable: []string{
		"client_id", "name", "display_name", "description", "app_type", "is_first_party",
		"token_endpoint_auth_method", "organization_usage", "created_at", "updated_at",
	},
	Filters: map[string]rest.FilterSpec{
		"client_id":                  {},
		"name":                       {},
		"app_type":                   {Enum: appTypes, Aliases: appTypeAliases},
		"token_endpoint_auth_method": {Enum: authMethods},
		"is_first_party":             {Boolean: true},
	},
}

// clientRenderer renders clients for any route that returns them: with
// the tenant's signing_keys (the SDK's read-only field: the certificate
// tokens are signed with), and with client_secret only when the token
// holds read:client_keys. read:clients alone must not hand out secrets:
// the management client's secret is a token with every scope.
func (a *API) clientRenderer(c *call) func(model.Client) ([]byte, error) {
	return a.renderClientsFor(c, c.holds(scopeReadClientKeys))
}

// clientRendererIssuing is for the two answers that hand a secret out
// whatever the token's read scopes, as Auth0 does: the client just
// created, and the secret just rotated (the caller made it, so it must
// be told).
func (a *API) clientRendererIssuing(c *call) func(model.Client) ([]byte, error) {
	return a.renderClientsFor(c, true)
}

func (a *API) renderClientsFor(c *call, withSecret bool) func(model.Client) ([]byte, error) {
	sk := a.clientSigningKeys(c.tenant.Name)
	return func(cl model.Client) ([]byte, error) {
		cl.SigningKeys = sk
		return renderClient(cl, withSecret)
	}
}

// clientSigningKeys is the tenant's current RS256 key as the SDK's
// signing_keys entry {kid, cert, pkcs7, subject}. It is informative only:
// when the keys cannot be read the field is left out, the request goes on.
func (a *API) clientSigningKeys(tenant string) []map[string]string {
	ks, err := a.cfg.Keys.List(tenant)
	if err != nil {
		a.cfg.Logger.Warn("mgmtapi: signing keys for client signing_keys", "tenant", tenant, "err", err)
		return nil
	}
	for _, k := range ks {
		if !k.Current || k.Revoked || k.Alg != model.SigningAlgRS256 {
			continue
		}
		entry := map[string]string{"kid": k.KID, "cert": k.Cert}
		if k.PKCS7 != "" {
			entry["pkcs7"] = k.PKCS7
		}
		if subject := certSubject(k.Cert); subject != "" {
			entry["subject"] = subject
		}
		return []map[string]string{entry}
	}
	return nil
}

// certSubject is the subject of a PEM certificate, "" when it does not
// parse.
func certSubject(certPEM string) string {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil {
		return ""
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return ""
	}
	return cert.Subject.String()
}

// renderClient is a client's JSON: the model's fields plus the SDK
// spellings of F.3 (callbacks, cross_origin_authentication), and
// client_secret only when withSecret (the model leaves out an empty one).
func renderClient(c model.Client, withSecret bool) ([]byte, error) {
	if !withSecret {
		c.ClientSecret = ""
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("mgmtapi: encode client: %w", err)
	}
	cb, err := json.Marshal(nonNilStrings(c.RedirectURIs))
	if err != nil {
		return nil, err
	}
	return rest.SpliceMembers(b,
		[2]string{"callbacks", string(cb)},
		[2]string{"cross_origin_authentication", strconv.FormatBool(c.CrossOriginAuth)},
	), nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// canonicalAppType maps an accepted app_type spelling to the stored one.
func canonicalAppType(v string) string {
	if c, ok := appTypeAliases[v]; ok {
		return c
	}
	return v
}

// defaultAppType is the app_type of a new client created without one.
// Auth0 needs only a name, and such a client is confidential unless its
// token_endpoint_auth_method is none: a confidential one is a regular web
// application (whose defaults include client_credentials, so a name-only
// client can be granted an API at once), a public one a single-page
// application.
func defaultAppType(c model.Client) string {
	if c.TokenEndpointAuthMethod == model.AuthMethodNone {
		return model.AppTypeSPA
	}
	return model.AppTypeWeb
}

// clientDefaults are the settings of a new client of appType that the
// body does not set (grant types by application type, and a public client
// for browser and native apps).
func clientDefaults(c *model.Client, present func(member string) bool) {
	if c.AppType == "" {
		c.AppType = defaultAppType(*c)
	}
	interactive := c.AppType != model.AppTypeNonInteractive
	if !present("token_endpoint_auth_method") {
		switch c.AppType {
		case model.AppTypeSPA, model.AppTypeNative:
			c.TokenEndpointAuthMethod = model.AuthMethodNone
		default:
			c.TokenEndpointAuthMethod = model.AuthMethodClientSecretPost
		}
	}
	if !present("grant_types") {
		switch c.AppType {
		case model.AppTypeNonInteractive:
			c.GrantTypes = []string{model.GrantTypeClientCredentials}
		case model.AppTypeWeb:
			c.GrantTypes = []string{model.GrantTypeAuthorizationCode, model.GrantTypeRefreshToken, model.GrantTypeClientCredentials}
		default:
			c.GrantTypes = []string{model.GrantTypeAuthorizationCode, model.GrantTypeRefreshToken}
		}
		if c.TokenEndpointAuthMethod == model.AuthMethodNone {
			c.GrantTypes = slices.DeleteFunc(c.GrantTypes, func(g string) bool { return g == model.GrantTypeClientCredentials })
		}
	}
	if !present("response_types") && interactive {
		c.ResponseTypes = []string{"code"}
	}
	if !present("is_first_party") {
		c.IsFirstParty = true
	}
	if !present("oidc_conformant") {
		c.OIDCConformant = true
	}
	if c.JWTConfiguration.Alg == "" {
		c.JWTConfiguration.Alg = model.SigningAlgRS256
	}
	if c.JWTConfiguration.LifetimeInSeconds == 0 {
		c.JWTConfiguration.LifetimeInSeconds = 36000
	}
	if c.RefreshToken.RotationType == "" {
		c.RefreshToken.RotationType = model.RotationTypeNonRotating
		if c.AppType == model.AppTypeSPA || c.AppType == model.AppTypeNative {
			c.RefreshToken.RotationType = model.RotationTypeRotating
		}
	}
	if c.RefreshToken.ExpirationType == "" {
		c.RefreshToken.ExpirationType = model.ExpirationTypeNonExpiring
		if c.RefreshToken.RotationType == model.RotationTypeRotating {
			c.RefreshToken.ExpirationType = model.ExpirationTypeExpiring
		}
	}
	if c.RefreshToken.TokenLifetime == 0 {
		c.RefreshToken.TokenLifetime = 2592000
	}
	if c.RefreshToken.IdleTokenLifetime == 0 {
		c.RefreshToken.IdleTokenLifetime = 1296000
	}
	if !present("refresh_token") && c.RefreshToken.ExpirationType == model.ExpirationTypeNonExpiring {
		c.RefreshToken.InfiniteTokenLifetime = true
		c.RefreshToken.InfiniteIdleTokenLifetime = true
	}
	if c.OrganizationUsage == "" {
		c.OrganizationUsage = model.OrganizationUsageDeny
	}
	if c.OrganizationRequireBehavior == "" {
		c.OrganizationRequireBehavior = model.OrganizationRequireNoPrompt
	}
	if c.OIDC.IDTokenSignedResponseAlg == "" {
		c.OIDC.IDTokenSignedResponseAlg = c.JWTConfiguration.Alg
	}
}

// checkClient enforces the rules that involve several fields, on the
// client as it would be stored.
func checkClient(c model.Client) error {
	v := &rest.Problems{}
	if c.TokenEndpointAuthMethod == model.AuthMethodNone && slices.Contains(c.GrantTypes, model.GrantTypeClientCredentials) {
		v.Add("Invalid value \"none\" (string) for field token_endpoint_auth_method (a client with grant type client_credentials must authenticate)")
	}
	if c.TokenEndpointAuthMethod == model.AuthMethodPrivateKeyJWT && (c.JWKS == nil || len(c.JWKS.Keys) == 0) {
		v.Add("Missing required property: jwks (token_endpoint_auth_method private_key_jwt verifies client assertions against it)")
	}
	rt := c.RefreshToken
	if !rt.InfiniteTokenLifetime && !rt.InfiniteIdleTokenLifetime && rt.TokenLifetime > 0 && rt.IdleTokenLifetime > rt.TokenLifetime {
		v.Add("Invalid value %d (number) for field refresh_token.idle_token_lifetime (must not exceed refresh_token.token_lifetime)", rt.IdleTokenLifetime)
	}
	return v.Err()
}

// ---- handlers ----

// clients is the client resource as c may read it (client_secret only
// with read:client_keys).
func (a *API) clients(c *call) rest.Resource[model.Client] {
	return rest.Resource[model.Client]{Spec: clientListSpec, Render: a.clientRenderer(c), Version: clientVersion}
}

// clientsIssuing renders the secret whatever the token's read scopes.
func (a *API) clientsIssuing(c *call) rest.Resource[model.Client] {
	return rest.Resource[model.Client]{Spec: clientListSpec, Render: a.clientRendererIssuing(c), Version: clientVersion}
}

func clientVersion(cl model.Client) uint64 { return cl.Version }

// updateClientCAS is the store's compare-and-swap of client id.
func (a *API) updateClientCAS(c *call, id string) func(func(model.Client) (model.Client, error)) (model.Client, error) {
	return func(fn func(model.Client) (model.Client, error)) (model.Client, error) {
		return a.cfg.Repo.UpdateClient(c.ctx(), c.tenant.Name, id, fn)
	}
}

func (a *API) listClients(c *call) error {
	return a.clients(c).List(c.w, c.r, func(after string) ([]model.Client, string, error) {
		return a.cfg.Repo.ListClients(c.ctx(), c.tenant.Name, after, 0)
	})
}

func (a *API) getClient(c *call) error {
	id := c.r.PathValue("id")
	return a.clients(c).Get(c.w, c.r, func() (model.Client, error) {
		cl, err := a.cfg.Repo.GetClient(c.ctx(), c.tenant.Name, id)
		return cl, repoError(err, whatClient, id)
	})
}

func (a *API) createClient(c *call) error {
	o, err := rest.ReadObject(c.r, a.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	in, err := parseClient(o, true, c.tenant.Name)
	if err != nil {
		return err
	}
	cl := model.Client{}
	in.Apply(&cl)
	clientDefaults(&cl, in.Has)
	if err := checkClient(cl); err != nil {
		return err
	}
	cl.ClientID = in.clientID
	if cl.ClientID == "" {
		if cl.ClientID, err = model.NewClientID(a.cfg.Rand); err != nil {
			return err
		}
	}
	if cl.ClientSecret == "" {
		if cl.ClientSecret, err = model.NewClientSecret(a.cfg.Rand); err != nil {
			return err
		}
	}
	now := a.now()
	cl.CreatedAt, cl.UpdatedAt = now, now
	created, err := a.cfg.Repo.CreateClient(c.ctx(), c.tenant.Name, cl)
	if err != nil {
		return repoError(err, whatClient, cl.ClientID)
	}
	return a.clientsIssuing(c).Created(c.w, created)
}

func (a *API) updateClient(c *call) error {
	id := c.r.PathValue("id")
	o, err := rest.ReadObject(c.r, a.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	in, err := parseClient(o, false, c.tenant.Name)
	if err != nil {
		return err
	}
	now := a.now()
	// Setting a secret or changing how the client authenticates needs
	// update:client_keys as well (Auth0's rule): with update:clients alone
	// a token could take over the management client's credentials.
	canKeys := c.holds(scopeUpdateClientKeys)
	res := a.clients(c)
	updated, err := res.Update(c.r, a.updateClientCAS(c, id), func(old model.Client) (model.Client, error) {
		nc := old
		in.Apply(&nc)
		if !canKeys {
			if fields := keyFieldsChanged(in, old, nc); len(fields) > 0 {
				return old, &keyFieldsError{fields: fields}
			}
		}
		if in.clientID != "" && in.clientID != old.ClientID {
			return old, rest.InvalidField("Invalid value %s (string) for field client_id (client_id is immutable)", strconv.Quote(in.clientID))
		}
		if err := checkClient(nc); err != nil {
			return old, err
		}
		nc.UpdatedAt = now
		return nc, nil
	})
	if kf := (*keyFieldsError)(nil); errors.As(err, &kf) {
		return insufficientScope(c.w, c.tenant, []string{"update:clients", scopeUpdateClientKeys},
			"to change "+strings.Join(kf.fields, ", "))
	}
	if err != nil {
		return repoError(err, whatClient, id)
	}
	return res.OK(c.w, updated)
}

func (a *API) deleteClient(c *call) error {
	id := c.r.PathValue("id")
	if id == c.tenant.Internal.ManagementClientID {
		// Deleting it would strand the tenant: bootstrap reports (and
		// checks on every start) the management client it created.
		return apierror.New(http.StatusBadRequest, codeOperationNotAllowed,
			"The tenant's management client cannot be deleted; rotate its secret instead.")
	}
	return rest.Delete(c.w, func() error {
		return repoError(a.cfg.Repo.DeleteClient(c.ctx(), c.tenant.Name, id), whatClient, id)
	})
}

func (a *API) rotateClientSecret(c *call) error {
	id := c.r.PathValue("id")
	secret, err := model.NewClientSecret(a.cfg.Rand)
	if err != nil {
		return err
	}
	now := a.now()
	res := a.clientsIssuing(c)
	updated, err := res.Update(c.r, a.updateClientCAS(c, id), func(old model.Client) (model.Client, error) {
		old.ClientSecret = secret
		old.UpdatedAt = now
		return old, nil
	})
	if err != nil {
		return repoError(err, whatClient, id)
	}
	return res.OK(c.w, updated)
}
