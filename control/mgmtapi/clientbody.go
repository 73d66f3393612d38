package mgmtapi

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	set     []func(*model.Client)
	present map[string]bool // canonical names of the members given
	// clientID is a client_id given in the body: on create the id to use,
	// on update it must equal the client's.
	clientID string
}

func (in *clientInput) add(name string, f func(*model.Client)) {
	in.present[name] = true
	in.set = append(in.set, f)
}

func (in *clientInput) apply(c *model.Client) {
	for _, f := range in.set {
		f(c)
	}
}

// parseClient reads a POST or PATCH /clients body. Field-level problems
// are collected and returned together as one 400 invalid_body.
func parseClient(o *object, create bool, tenant string) (*clientInput, error) {
	in := &clientInput{present: map[string]bool{}}

	var s string
	if o.stringChecked("client_id", &s, checkClientID) {
		in.clientID = s
	}
	if o.has("client_secret") {
		var secret string
		if o.stringChecked("client_secret", &secret, checkClientSecret) {
			in.add("client_secret", func(c *model.Client) { c.ClientSecret = model.Secret(secret) })
		}
	}
	if raw, ok := o.take("tenant"); ok {
		var t string
		if jsonKind(raw) != "string" || json.Unmarshal(raw, &t) != nil || t != tenant {
			o.fail("tenant", raw, "read-only: the tenant is the one the request is made to")
		}
	}
	o.ignoreReadOnly("array", "signing_keys")
	o.ignoreReadOnly("string", "created_at", "updated_at")

	str := func(name string, check func(string) (string, string), set func(*model.Client, string)) {
		var v string
		if o.stringChecked(name, &v, check) {
			in.add(name, func(c *model.Client) { set(c, v) })
		}
	}
	str("name", checkClientName, func(c *model.Client, v string) { c.Name = v })
	str("display_name", checkText(maxDisplayNameLen), func(c *model.Client, v string) { c.DisplayName = v })
	str("description", checkText(maxDescriptionLen), func(c *model.Client, v string) { c.Description = v })
	str("logo_uri", optionalWebURL(true), func(c *model.Client, v string) { c.LogoURI = v })
	str("cross_origin_loc", optionalWebURL(true), func(c *model.Client, v string) { c.CrossOriginLoc = v })
	str("custom_login_page", checkText(maxClientStringField), func(c *model.Client, v string) { c.CustomLoginPage = v })
	str("custom_login_page_preview", checkText(maxClientStringField), func(c *model.Client, v string) { c.CustomLoginPagePreview = v })
	str("form_template", checkText(maxClientStringField), func(c *model.Client, v string) { c.FormTemplate = v })
	str("initiate_login_uri", optionalWebURL(false), func(c *model.Client, v string) { c.InitiateLoginURI = v })

	enum := func(name string, allowed []string, set func(*model.Client, string)) {
		var v string
		if o.Enum(name, &v, allowed...) {
			in.add(name, func(c *model.Client) { set(c, v) })
		}
	}
	enum("app_type", appTypesAccepted, func(c *model.Client, v string) { c.AppType = canonicalAppType(v) })
	enum("token_endpoint_auth_method", authMethods, func(c *model.Client, v string) { c.TokenEndpointAuthMethod = v })
	enum("organization_usage", organizationUsages, func(c *model.Client, v string) { c.OrganizationUsage = v })
	enum("organization_require_behavior", organizationBehavior, func(c *model.Client, v string) { c.OrganizationRequireBehavior = v })

	boolean := func(name string, set func(*model.Client, bool)) {
		var v bool
		if o.Bool(name, &v) {
			in.add(name, func(c *model.Client) { set(c, v) })
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
			if d, dup := firstDuplicate(v); dup {
				o.errs.add("Invalid value %s for field %s (duplicate entry)", strconv.Quote(d), o.field(name))
				return
			}
			in.add(name, func(c *model.Client) { set(c, v) })
		}
	}
	list("response_types", enumCheck(responseTypes), func(c *model.Client, v []string) { c.ResponseTypes = v })
	list("grant_types", checkGrantType, func(c *model.Client, v []string) { c.GrantTypes = v })
	list("allowed_origins", checkOrigin, func(c *model.Client, v []string) { c.AllowedOrigins = v })
	list("web_origins", checkOrigin, func(c *model.Client, v []string) { c.WebOrigins = v })
	list("client_aliases", checkToken(600), func(c *model.Client, v []string) { c.ClientAliases = v })
	list("allowed_clients", checkToken(maxClientIDLen), func(c *model.Client, v []string) { c.AllowedClients = v })
	list("allowed_logout_urls", checkRedirectURL, func(c *model.Client, v []string) { c.AllowedLogoutURLs = v })
	// redirect_uris, or the SDK's callbacks (F.3).
	if from, ok := o.pick("redirect_uris", "callbacks"); ok {
		list(from, checkRedirectURL, func(c *model.Client, v []string) { c.RedirectURIs = v })
		if from == "callbacks" {
			in.present["redirect_uris"] = true
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
		ek.finish()
		in.add("encryption_key", func(c *model.Client) { c.EncryptionKey = k })
	}
	if addons, ok := parseAddons(o); ok {
		in.add("addons", func(c *model.Client) { c.Addons = addons })
	}
	var md map[string]string
	if o.StringMap("client_metadata", &md) && checkClientMetadata(o, md) {
		in.add("client_metadata", func(c *model.Client) { c.ClientMetadata = md })
	}
	var jwks *model.JWKS
	if o.JWKS("jwks", &jwks) {
		in.add("jwks", func(c *model.Client) { c.JWKS = jwks })
	}

	if create {
		if !in.present["name"] && !o.has("name") {
			o.missing("name")
		}
	}
	if in.present["name"] {
		var probe model.Client
		in.apply(&probe)
		if probe.Name == "" {
			o.errs.add("Invalid value \"\" (string) for field name (must not be empty)")
		}
	}
	o.finish()
	return in, o.errs.err()
}

// aliasBool reads a boolean that has an SDK alias (F.3).
func aliasBool(o *object, in *clientInput, name, alias string, set func(*model.Client, bool)) {
	from, ok := o.pick(name, alias)
	if !ok {
		return
	}
	var v bool
	if o.Bool(from, &v) {
		in.add(name, func(c *model.Client) { set(c, v) })
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
	return checkToken(maxClientIDLen)(s)
}

func checkClientSecret(s string) (string, string) {
	if len(s) < minClientSecretLen || len(s) > maxClientSecretLen || hasSpaceOrControl(s) {
		return "", fmt.Sprintf("must be %d to %d characters without spaces", minClientSecretLen, maxClientSecretLen)
	}
	return s, ""
}

func checkClientMetadata(o *object, md map[string]string) bool {
	ok := true
	if len(md) > maxMetadataKeys {
		o.errs.add("Invalid value for field client_metadata (at most %d keys)", maxMetadataKeys)
		ok = false
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !metadataKeyRE.MatchString(k) {
			o.errs.add("Invalid key %s for field client_metadata (letters, digits, _ and -, at most 255)", strconv.Quote(k))
			ok = false
		}
		if utf8.RuneCountInString(md[k]) > maxMetadataValueLen {
			o.errs.add("Invalid value for field client_metadata.%s (at most %d characters)", k, maxMetadataValueLen)
			ok = false
		}
	}
	return ok
}

// parseJWTConfiguration reads jwt_configuration; given members replace
// the stored ones, null resets the object.
func parseJWTConfiguration(o *object, in *clientInput) {
	jc, wasNull, ok := o.Object("jwt_configuration")
	if !ok {
		return
	}
	defer jc.finish()
	if wasNull {
		in.add("jwt_configuration", func(c *model.Client) { c.JWTConfiguration = model.JWTConfiguration{} })
		return
	}
	var sets []func(*model.JWTConfiguration)
	// lifetime_in_seconds: a number or a numeric string (C.2).
	if raw, ok := jc.take("lifetime_in_seconds"); ok {
		n, valid := intValue(raw)
		if !valid && jsonKind(raw) == "string" {
			var s string
			_ = json.Unmarshal(raw, &s)
			v, err := strconv.Atoi(strings.TrimSpace(s))
			n, valid = int64(v), err == nil
		}
		switch {
		case !valid:
			jc.fail("lifetime_in_seconds", raw, "expected integer")
		case n < 1 || n > maxTokenLifetime:
			jc.fail("lifetime_in_seconds", raw, fmt.Sprintf("must be between 1 and %d", maxTokenLifetime))
		default:
			sets = append(sets, func(j *model.JWTConfiguration) { j.LifetimeInSeconds = int(n) })
		}
	}
	var b bool
	if jc.Bool("secret_encoded", &b) {
		v := b
		sets = append(sets, func(j *model.JWTConfiguration) { j.SecretEncoded = v })
	}
	if raw, ok := jc.take("scopes"); ok {
		var m map[string]any
		if isNull(raw) {
			sets = append(sets, func(j *model.JWTConfiguration) { j.Scopes = nil })
		} else if jsonKind(raw) != "object" || json.Unmarshal(raw, &m) != nil {
			jc.fail("scopes", raw, "expected object")
		} else {
			sets = append(sets, func(j *model.JWTConfiguration) { j.Scopes = m })
		}
	}
	if alg, ok := readAlg(jc, "alg"); ok {
		sets = append(sets, func(j *model.JWTConfiguration) { j.Alg = alg })
	}
	in.add("jwt_configuration", func(c *model.Client) {
		for _, f := range sets {
			f(&c.JWTConfiguration)
		}
	})
}

// readAlg reads a token signing algorithm: RS256, PS256, ES256 or EdDSA;
// HS256 is refused as not supported yet.
func readAlg(o *object, name string) (string, bool) {
	raw, ok := o.m[name]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s == model.SigningAlgHS256 {
		o.take(name)
		o.fail(name, raw, "HS256 is not supported yet; allowed: "+strings.Join(tokenAlgs, ", "))
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
func parseRefreshToken(o *object, in *clientInput) {
	rt, wasNull, ok := o.Object("refresh_token")
	if !ok {
		return
	}
	defer rt.finish()
	if wasNull {
		in.add("refresh_token", func(c *model.Client) { c.RefreshToken = model.RefreshToken{} })
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
	in.add("refresh_token", func(c *model.Client) {
		for _, f := range sets {
			f(&c.RefreshToken)
		}
	})
}

// parseMobile reads mobile; android and ios each replace the stored one.
func parseMobile(o *object, in *clientInput) {
	mo, wasNull, ok := o.Object("mobile")
	if !ok {
		return
	}
	defer mo.finish()
	if wasNull {
		in.add("mobile", func(c *model.Client) { c.Mobile = model.Mobile{} })
		return
	}
	var sets []func(*model.Mobile)
	if an, isNull, ok := mo.Object("android"); ok {
		var a *model.MobileAndroid
		if !isNull {
			a = &model.MobileAndroid{}
			an.stringChecked("app_package_name", &a.AppPackageName, checkText(255))
			an.Strings("sha256_cert_fingerprints", &a.SHA256CertFingerprints, checkFingerprint)
		}
		an.finish()
		sets = append(sets, func(m *model.Mobile) { m.Android = a })
	}
	if ios, isNull, ok := mo.Object("ios"); ok {
		var i *model.MobileIOS
		if !isNull {
			i = &model.MobileIOS{}
			ios.stringChecked("team_id", &i.TeamID, checkText(64))
			ios.stringChecked("app_bundle_identifier", &i.AppBundleIdentifier, checkText(255))
		}
		ios.finish()
		sets = append(sets, func(m *model.Mobile) { m.IOS = i })
	}
	in.add("mobile", func(c *model.Client) {
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
func parseNativeSocialLogin(o *object, in *clientInput) {
	nsl, wasNull, ok := o.Object("native_social_login")
	if !ok {
		return
	}
	defer nsl.finish()
	if wasNull {
		in.add("native_social_login", func(c *model.Client) { c.NativeSocialLogin = model.NativeSocialLogin{} })
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
			if !p.Bool("enabled", &e.Enabled) && !p.has("enabled") {
				p.missing("enabled")
			}
		}
		p.finish()
		if provider == "apple" {
			sets = append(sets, func(n *model.NativeSocialLogin) { n.Apple = e })
		} else {
			sets = append(sets, func(n *model.NativeSocialLogin) { n.Facebook = e })
		}
	}
	in.add("native_social_login", func(c *model.Client) {
		for _, f := range sets {
			f(&c.NativeSocialLogin)
		}
	})
}

// parseAddons reads addons: an object of add-on settings objects, kept
// verbatim (settings this server does not interpret survive). The samlp
// add-on's members that the SAML IdP reads are type-checked.
func parseAddons(o *object) (model.Addons, bool) {
	ad, wasNull, ok := o.Object("addons")
	if !ok {
		return nil, false
	}
	if wasNull {
		return model.Addons{}, true
	}
	out := model.Addons{}
	valid := true
	names := make([]string, 0, len(ad.m))
	for k := range ad.m {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		child, isNull, ok := ad.Object(name)
		if !ok || isNull {
			if ok {
				ad.fail(name, ad.m[name], "expected object")
			}
			valid = false
			continue
		}
		if name == "samlp" {
			var s string
			child.String("audience", &s)
			child.stringChecked("consumer", &s, func(v string) (string, string) {
				if v == "" {
					return "", ""
				}
				return checkRedirectURL(v)
			})
			if attrs, ok := child.Objects("attributes"); ok {
				for _, a := range attrs {
					var n, v string
					if !a.String("name", &n) && !a.has("name") {
						a.missing("name")
					}
					if !a.String("value", &v) && !a.has("value") {
						a.missing("value")
					}
					a.finish()
				}
			}
		}
		var buf bytes.Buffer
		_ = json.Compact(&buf, ad.m[name])
		out[name] = json.RawMessage(buf.Bytes())
	}
	return out, valid
}
