package mgmtapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/authok-edge/authok/shared/model"
)

// Limits of client fields.
const (
	maxClientNameLen     = 32 // backend limit (API.md C.2)
	maxDescriptionLen    = 140
	maxDisplayNameLen    = 255
	maxClientIDLen       = model.MaxClientIDLength
	minClientSecretLen   = 32
	maxClientSecretLen   = 128
	maxMetadataKeys      = 10
	maxMetadataValueLen  = 255
	maxTokenLifetime     = 2592000  // 30 days, seconds
	maxRefreshLifetime   = 94608000 // 3 years, seconds
	maxRefreshLeeway     = 3600
	maxClientStringField = 64 << 10 // custom login page, form template
)

var metadataKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// clientInput is a parsed client body: the changes to apply, in order.
type clientInput struct {
	rest.Changes[model.Client] // by the members' canonical names
	// clientID is a client_id given in the body: on create the id to use,
	// on update it must equal the client's.
	clientID string
}

// parseClient reads a POST or PATCH /clients body. Field-level problems
// are collected and returned together as one 400 invalid_body.
func parseClient(o *rest.Object, create bool, tenant string) (*clientInput, error) {
	in := &clientInput{}

	var s string
	if o.StringChecked("client_id", &s, checkClientID) {
		in.clientID = s
	}
	if o.Has("client_secret") {
		var secret string
		if o.StringChecked("client_secret", &secret, checkClientSecret) {
			in.Set("client_secret", func(c *model.Client) { c.ClientSecret = model.Secret(secret) })
		}
	}
	if raw, ok := o.Take("tenant"); ok {
		var t string
		if rest.JSONKind(raw) != "string" || json.Unmarshal(raw, &t) != nil || t != tenant {
			o.Fail("tenant", raw, "read-only: the tenant is the one the request is made to")
		}
	}
	o.IgnoreReadOnly("array", "signing_keys")
	o.IgnoreReadOnly("string", "created_at", "updated_at")

	str := func(name string, check func(string) (string, string), set func(*model.Client, string)) {
		var v string
		if o.StringChecked(name, &v, check) {
			in.Set(name, func(c *model.Client) { set(c, v) })
		}
	}
	str("name", checkClientName, func(c *model.Client, v string) { c.Name = v })
	str("display_name", rest.CheckText(maxDisplayNameLen), func(c *model.Client, v string) { c.DisplayName = v })
	str("description", rest.CheckText(maxDescriptionLen), func(c *model.Client, v string) { c.Description = v })
	str("logo_uri", rest.OptionalWebURL(true), func(c *model.Client, v string) { c.LogoURI = v })
	str("cross_origin_loc", rest.OptionalWebURL(true), func(c *model.Client, v string) { c.CrossOriginLoc = v })
	str("custom_login_page", rest.CheckText(maxClientStringField), func(c *model.Client, v string) { c.CustomLoginPage = v })
	str("custom_login_page_preview", rest.CheckText(maxClientStringField), func(c *model.Client, v string) { c.CustomLoginPagePreview = v })
	str("form_template", rest.CheckText(maxClientStringField), func(c *model.Client, v string) { c.FormTemplate = v })
	str("initiate_login_uri", rest.OptionalWebURL(false), func(c *model.Client, v string) { c.InitiateLoginURI = v })

	enum := func(name string, allowed []string, set func(*model.Client, string)) {
		var v string
		if o.Enum(name, &v, allowed...) {
			in.Set(name, func(c *model.Client) { set(c, v) })
		}
	}
	enum("app_type", appTypesAccepted, func(c *model.Client, v string) { c.AppType = canonicalAppType(v) })
	enum("token_endpoint_auth_method", authMethods, func(c *model.Client, v string) { c.TokenEndpointAuthMethod = v })
	enum("organization_usage", organizationUsages, func(c *model.Client, v string) { c.OrganizationUsage = v })
	enum("organization_require_behavior", organizationBehavior, func(c *model.Client, v string) { c.OrganizationRequireBehavior = v })

	boolean := func(name string, set func(*model.Client, bool)) {
		var v bool
		if o.Bool(name, &v) {
			in.Set(name, func(c *model.Client) { set(c, v) })
		}
	}
	boolean("is_first_party", func(c *model.Client, v bool) { c.IsFirstParty = v })
	boolean("oidc_conformant", func(c *model.Client, v bool) { c.OIDCConformant = v })
	boolean("sso", func(c *model.Client, v bool) { c.SSO = v })
	boolean("sso_disabled", func(c *model.Client, v bool) { c.SSODisabled = v })
	boolean("custom_login_page_on", func(c *model.Client, v bool) { c.CustomLoginPageOn = v })
	boolean("is_token_endpoint_ip_header_trusted", func(c *model.Client, v bool) { c.IsTokenEndpointIPHeaderTrusted = v })
	aliasBool(o, in, "cross_origin_auth", "cross_origin_authentication", func(c *model.Client, v bool) { c.CrossOriginAuth = v })

	list := func(name string, check func(string) (string, string), set func(*model.Client, []string)) {
		var v []string
		if o.Strings(name, &v, check) {
			if d, dup := rest.FirstDuplicate(v); dup {
				o.Errs().Add("Invalid value %s for field %s (duplicate entry)", strconv.Quote(d), o.Field(name))
				return
			}
			in.Set(name, func(c *model.Client) { set(c, v) })
		}
	}
	list("response_types", enumCheck(responseTypes), func(c *model.Client, v []string) { c.ResponseTypes = v })
	list("grant_types", checkGrantType, func(c *model.Client, v []string) { c.GrantTypes = v })
	list("allowed_origins", rest.CheckOrigin, func(c *model.Client, v []string) { c.AllowedOrigins = v })
	list("web_origins", rest.CheckOrigin, func(c *model.Client, v []string) { c.WebOrigins = v })
	list("client_aliases", rest.CheckToken(600), func(c *model.Client, v []string) { c.ClientAliases = v })
	list("allowed_clients", rest.CheckToken(maxClientIDLen), func(c *model.Client, v []string) { c.AllowedClients = v })
	list("allowed_logout_urls", rest.CheckRedirectURL, func(c *model.Client, v []string) { c.AllowedLogoutURLs = v })
	// redirect_uris, or the SDK's callbacks (F.3).
	if from, ok := o.Pick("redirect_uris", "callbacks"); ok {
		list(from, rest.CheckRedirectURL, func(c *model.Client, v []string) { c.RedirectURIs = v })
		if from == "callbacks" {
			in.Mark("redirect_uris")
		}
	}

	parseJWTConfiguration(o, in)
	parseRefreshToken(o, in)
	parseMobile(o, in)
	parseNativeSocialLogin(o, in)
	if ek, wasNull, ok := o.Object("encryption_key"); ok {
		var k model.EncryptionKey
		if !wasNull {
			ek.String("pub", &k.Pub)
			ek.String("cert", &k.Cert)
			ek.String("subject", &k.Subject)
		}
		ek.Finish()
		in.Set("encryption_key", func(c *model.Client) { c.EncryptionKey = k })
	}
	if addons, ok := parseAddons(o); ok {
		in.Set("addons", func(c *model.Client) { c.Addons = addons })
	}
	var md map[string]string
	if o.StringMap("client_metadata", &md) && checkClientMetadata(o, md) {
		in.Set("client_metadata", func(c *model.Client) { c.ClientMetadata = md })
	}
	var jwks *model.JWKS
	if readJWKS(o, "jwks", &jwks) {
		in.Set("jwks", func(c *model.Client) { c.JWKS = jwks })
	}

	if create {
		if !in.Has("name") && !o.Has("name") {
			o.Missing("name")
		}
	}
	if in.Has("name") {
		var probe model.Client
		in.Apply(&probe)
		if probe.Name == "" {
			o.Errs().Add("Invalid value \"\" (string) for field name (must not be empty)")
		}
	}
	o.Finish()
	return in, o.Errs().Err()
}

// aliasBool reads a boolean that has an SDK alias (F.3).
func aliasBool(o *rest.Object, in *clientInput, name, alias string, set func(*model.Client, bool)) {
	from, ok := o.Pick(name, alias)
	if !ok {
		return
	}
	var v bool
	if o.Bool(from, &v) {
		in.Set(name, func(c *model.Client) { set(c, v) })
	}
}

func enumCheck(allowed []string) func(string) (string, string) {
	return func(s string) (string, string) {
		if !slices.Contains(allowed, s) {
			return "", "allowed: " + strings.Join(allowed, ", ")
		}
		return s, ""
	}
}

func checkGrantType(s string) (string, string) {
	g := normalizeGrantType(s)
	if !slices.Contains(grantTypes, g) {
		return "", "allowed: " + strings.Join(grantTypes, ", ")
	}
	return g, ""
}

func checkClientName(s string) (string, string) {
	if utf8.RuneCountInString(s) > maxClientNameLen || strings.ContainsAny(s, "<>") || strings.ContainsFunc(s, isControl) {
		return "", fmt.Sprintf("at most %d characters, without < or >", maxClientNameLen)
	}
	return s, ""
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkClientID accepts the ids this API generates and imported ones: ids
// may hold '|' and '/' (they travel escaped in paths), not whitespace or
// control characters.
func checkClientID(s string) (string, string) {
	return rest.CheckToken(maxClientIDLen)(s)
}

func checkClientSecret(s string) (string, string) {
	if len(s) < minClientSecretLen || len(s) > maxClientSecretLen || rest.HasSpaceOrControl(s) {
		return "", fmt.Sprintf("must be %d to %d characters without spaces", minClientSecretLen, maxClientSecretLen)
	}
	return s, ""
}

func checkClientMetadata(o *rest.Object, md map[string]string) bool {
	ok := true
	if len(md) > maxMetadataKeys {
		o.Errs().Add("Invalid value for field client_metadata (at most %d keys)", maxMetadataKeys)
		ok = false
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !metadataKeyRE.MatchString(k) {
			o.Errs().Add("Invalid key %s for field client_metadata (letters, digits, _ and -, at most 255)", strconv.Quote(k))
			ok = false
		}
		if utf8.RuneCountInString(md[k]) > maxMetadataValueLen {
			o.Errs().Add("Invalid value for field client_metadata.%s (at most %d characters)", k, maxMetadataValueLen)
			ok = false
		}
	}
	return ok
}

// parseJWTConfiguration reads jwt_configuration; given members replace
// the stored ones, null resets the object.
func parseJWTConfiguration(o *rest.Object, in *clientInput) {
	jc, wasNull, ok := o.Object("jwt_configuration")
	if !ok {
		return
	}
	defer jc.Finish()
	if wasNull {
		in.Set("jwt_configuration", func(c *model.Client) { c.JWTConfiguration = model.JWTConfiguration{} })
		return
	}
	var sets []func(*model.JWTConfiguration)
	// lifetime_in_seconds: a number or a numeric string (C.2).
	if raw, ok := jc.Take("lifetime_in_seconds"); ok {
		n, valid := rest.IntValue(raw)
		if !valid && rest.JSONKind(raw) == "string" {
			var s string
			_ = json.Unmarshal(raw, &s)
			v, err := strconv.Atoi(strings.TrimSpace(s))
			n, valid = int64(v), err == nil
		}
		switch {
		case !valid:
			jc.Fail("lifetime_in_seconds", raw, "expected integer")
		case n < 1 || n > maxTokenLifetime:
			jc.Fail("lifetime_in_seconds", raw, fmt.Sprintf("must be between 1 and %d", maxTokenLifetime))
		default:
			sets = append(sets, func(j *model.JWTConfiguration) { j.LifetimeInSeconds = int(n) })
		}
	}
	var b bool
	if jc.Bool("secret_encoded", &b) {
		v := b
		sets = append(sets, func(j *model.JWTConfiguration) { j.SecretEncoded = v })
	}
	if raw, ok := jc.Take("scopes"); ok {
		var m map[string]any
		if rest.IsNull(raw) {
			sets = append(sets, func(j *model.JWTConfiguration) { j.Scopes = nil })
		} else if rest.JSONKind(raw) != "object" || json.Unmarshal(raw, &m) != nil {
			jc.Fail("scopes", raw, "expected object")
		} else {
			sets = append(sets, func(j *model.JWTConfiguration) { j.Scopes = m })
		}
	}
	if alg, ok := readAlg(jc, "alg"); ok {
		sets = append(sets, func(j *model.JWTConfiguration) { j.Alg = alg })
	}
	in.Set("jwt_configuration", func(c *model.Client) {
		for _, f := range sets {
			f(&c.JWTConfiguration)
		}
	})
}

// readAlg reads a token signing algorithm: RS256, PS256, ES256 or EdDSA;
// HS256 is refused as not supported yet.
func readAlg(o *rest.Object, name string) (string, bool) {
	raw, ok := o.Peek(name)
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s == model.SigningAlgHS256 {
		o.Take(name)
		o.Fail(name, raw, "HS256 is not supported yet; allowed: "+strings.Join(tokenAlgs, ", "))
		return "", false
	}
	var alg string
	if o.Enum(name, &alg, tokenAlgs...) {
		return alg, true
	}
	return "", false
}

// parseRefreshToken reads refresh_token; given members replace the stored
// ones, null resets the policy.
func parseRefreshToken(o *rest.Object, in *clientInput) {
	rt, wasNull, ok := o.Object("refresh_token")
	if !ok {
		return
	}
	defer rt.Finish()
	if wasNull {
		in.Set("refresh_token", func(c *model.Client) { c.RefreshToken = model.RefreshToken{} })
		return
	}
	var sets []func(*model.RefreshToken)
	var s string
	if rt.Enum("rotation_type", &s, rotationTypes...) {
		v := s
		sets = append(sets, func(r *model.RefreshToken) { r.RotationType = v })
	}
	if rt.Enum("expiration_type", &s, expirationTypes...) {
		v := s
		sets = append(sets, func(r *model.RefreshToken) { r.ExpirationType = v })
	}
	var n int
	if rt.Int("leeway", &n, 0, maxRefreshLeeway) {
		v := n
		sets = append(sets, func(r *model.RefreshToken) { r.Leeway = v })
	}
	if rt.Int("token_lifetime", &n, 1, maxRefreshLifetime) {
		v := n
		sets = append(sets, func(r *model.RefreshToken) { r.TokenLifetime = v })
	}
	if rt.Int("idle_token_lifetime", &n, 1, maxRefreshLifetime) {
		v := n
		sets = append(sets, func(r *model.RefreshToken) { r.IdleTokenLifetime = v })
	}
	var b bool
	if rt.Bool("infinite_token_lifetime", &b) {
		v := b
		sets = append(sets, func(r *model.RefreshToken) { r.InfiniteTokenLifetime = v })
	}
	if rt.Bool("infinite_idle_token_lifetime", &b) {
		v := b
		sets = append(sets, func(r *model.RefreshToken) { r.InfiniteIdleTokenLifetime = v })
	}
	in.Set("refresh_token", func(c *model.Client) {
		for _, f := range sets {
			f(&c.RefreshToken)
		}
	})
}

// parseMobile reads mobile; android and ios each replace the stored one.
func parseMobile(o *rest.Object, in *clientInput) {
	mo, wasNull, ok := o.Object("mobile")
	if !ok {
		return
	}
	defer mo.Finish()
	if wasNull {
		in.Set("mobile", func(c *model.Client) { c.Mobile = model.Mobile{} })
		return
	}
	var sets []func(*model.Mobile)
	if an, isNull, ok := mo.Object("android"); ok {
		var a *model.MobileAndroid
		if !isNull {
			a = &model.MobileAndroid{}
			an.StringChecked("app_package_name", &a.AppPackageName, rest.CheckText(255))
			an.Strings("sha256_cert_fingerprints", &a.SHA256CertFingerprints, checkFingerprint)
		}
		an.Finish()
		sets = append(sets, func(m *model.Mobile) { m.Android = a })
	}
	if ios, isNull, ok := mo.Object("ios"); ok {
		var i *model.MobileIOS
		if !isNull {
			i = &model.MobileIOS{}
			ios.StringChecked("team_id", &i.TeamID, rest.CheckText(64))
			ios.StringChecked("app_bundle_identifier", &i.AppBundleIdentifier, rest.CheckText(255))
		}
		ios.Finish()
		sets = append(sets, func(m *model.Mobile) { m.IOS = i })
	}
	in.Set("mobile", func(c *model.Client) {
		for _, f := range sets {
			f(&c.Mobile)
		}
	})
}

var fingerprintRE = regexp.MustCompile(`^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$`)

func checkFingerprint(s string) (string, string) {
	if !fingerprintRE.MatchString(s) {
		return "", "must be a SHA-256 fingerprint: 32 colon-separated hex bytes"
	}
	return strings.ToUpper(s), ""
}

// parseNativeSocialLogin reads native_social_login{apple, facebook}.
func parseNativeSocialLogin(o *rest.Object, in *clientInput) {
	nsl, wasNull, ok := o.Object("native_social_login")
	if !ok {
		return
	}
	defer nsl.Finish()
	if wasNull {
		in.Set("native_social_login", func(c *model.Client) { c.NativeSocialLogin = model.NativeSocialLogin{} })
		return
	}
	var sets []func(*model.NativeSocialLogin)
	for _, provider := range []string{"apple", "facebook"} {
		p, isNull, ok := nsl.Object(provider)
		if !ok {
			continue
		}
		var e *model.Enabled
		if !isNull {
			e = &model.Enabled{}
			if !p.Bool("enabled", &e.Enabled) && !p.Has("enabled") {
				p.Missing("enabled")
			}
		}
		p.Finish()
		if provider == "apple" {
			sets = append(sets, func(n *model.NativeSocialLogin) { n.Apple = e })
		} else {
			sets = append(sets, func(n *model.NativeSocialLogin) { n.Facebook = e })
		}
	}
	in.Set("native_social_login", func(c *model.Client) {
		for _, f := range sets {
			f(&c.NativeSocialLogin)
		}
	})
}

// parseAddons reads addons: an object of add-on settings objects, kept
// verbatim (settings this server does not interpret survive). The samlp
// add-on's members that the SAML IdP reads are type-checked.
func parseAddons(o *rest.Object) (model.Addons, bool) {
	ad, wasNull, ok := o.Object("addons")
	if !ok {
		return nil, false
	}
	if wasNull {
		return model.Addons{}, true
	}
	out := model.Addons{}
	valid := true
	for _, name := range ad.Names() {
		raw, _ := ad.Peek(name)
		child, isNull, ok := ad.Object(name)
		if !ok || isNull {
			if ok {
				ad.Fail(name, raw, "expected object")
			}
			valid = false
			continue
		}
		if name == "samlp" {
			var s string
			child.String("audience", &s)
			child.StringChecked("consumer", &s, func(v string) (string, string) {
				if v == "" {
					return "", ""
				}
				return rest.CheckRedirectURL(v)
			})
			if attrs, ok := child.Objects("attributes"); ok {
				for _, a := range attrs {
					var n, v string
					if !a.String("name", &n) && !a.Has("name") {
						a.Missing("name")
					}
					if !a.String("value", &v) && !a.Has("value") {
						a.Missing("value")
					}
					a.Finish()
				}
			}
		}
		var buf bytes.Buffer
		_ = json.Compact(&buf, raw)
		out[name] = json.RawMessage(buf.Bytes())
	}
	return out, valid
}
