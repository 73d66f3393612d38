package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// App types (Client.AppType).
const (
	AppTypeNonInteractive = "non_interactive"
	AppTypeNative         = "native"
	AppTypeWeb            = "web"
	AppTypeSPA            = "spa"
)

// Token endpoint authentication methods (Client.TokenEndpointAuthMethod).
const (
	AuthMethodClientSecretBasic = "client_secret_basic"
	AuthMethodClientSecretJWT   = "client_secret_jwt"
	AuthMethodClientSecretPost  = "client_secret_post"
	AuthMethodPrivateKeyJWT     = "private_key_jwt"
	AuthMethodNone              = "none"
)

// Grant types (Client.GrantTypes), in the canonical http://authok.cn
// spelling; the token endpoint also accepts authok.io and authok.com.
const (
	GrantTypeAuthorizationCode = "authorization_code"
	GrantTypeImplicit          = "implicit"
	GrantTypeRefreshToken      = "refresh_token"
	GrantTypeClientCredentials = "client_credentials"
	GrantTypePassword          = "password"
	GrantTypePasswordRealm     = "http://authok.cn/oauth/grant-type/password-realm"
	GrantTypeMFAOOB            = "http://authok.cn/oauth/grant-type/mfa-oob"
	GrantTypeMFAOTP            = "http://authok.cn/oauth/grant-type/mfa-otp"
	GrantTypePasswordlessOTP   = "http://authok.cn/oauth/grant-type/passwordless/otp"
	GrantTypeMFARecoveryCode   = "http://authok.cn/oauth/grant-type/mfa-recovery-code"
	GrantTypeDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// Organization settings of a client.
const (
	OrganizationUsageDeny             = "deny"
	OrganizationUsageAllow            = "allow"
	OrganizationUsageRequire          = "require"
	OrganizationRequireNoPrompt       = "no_prompt"
	OrganizationRequirePreLoginPrompt = "pre_login_prompt"
)

// Client is an application (API.md C.2): the 37 fields of seed 002, the Go
// SDK's extras, and the hidden OIDC settings. All 37 are always emitted
// (they are marked required in responses): nil lists marshal as [] and nil
// objects as {}. The one exception is client_secret, left out when empty:
// the Management API empties it unless the caller may see it.
type Client struct {
	ClientID                    string            `json:"client_id"`
	ClientSecret                Secret            `json:"client_secret,omitempty"`
	Tenant                      string            `json:"tenant"`
	Name                        string            `json:"name"`
	DisplayName                 string            `json:"display_name"`
	Description                 string            `json:"description"`
	LogoURI                     string            `json:"logo_uri"`
	AppType                     string            `json:"app_type"`
	IsFirstParty                bool              `json:"is_first_party"`
	OIDCConformant              bool              `json:"oidc_conformant"`
	ResponseTypes               []string          `json:"response_types"`
	GrantTypes                  []string          `json:"grant_types"`
	TokenEndpointAuthMethod     string            `json:"token_endpoint_auth_method"`
	RedirectURIs                []string          `json:"redirect_uris"`
	AllowedOrigins              []string          `json:"allowed_origins"`
	WebOrigins                  []string          `json:"web_origins"`
	ClientAliases               []string          `json:"client_aliases"`
	AllowedClients              []string          `json:"allowed_clients"`
	AllowedLogoutURLs           []string          `json:"allowed_logout_urls"`
	JWTConfiguration            JWTConfiguration  `json:"jwt_configuration"`
	EncryptionKey               EncryptionKey     `json:"encryption_key"`
	SSO                         bool              `json:"sso"`
	SSODisabled                 bool              `json:"sso_disabled"`
	CrossOriginAuth             bool              `json:"cross_origin_auth"`
	CrossOriginLoc              string            `json:"cross_origin_loc"`
	CustomLoginPageOn           bool              `json:"custom_login_page_on"`
	CustomLoginPage             string            `json:"custom_login_page"`
	CustomLoginPagePreview      string            `json:"custom_login_page_preview"`
	FormTemplate                string            `json:"form_template"`
	Addons                      Addons            `json:"addons"`
	ClientMetadata              map[string]string `json:"client_metadata"`
	Mobile                      Mobile            `json:"mobile"`
	InitiateLoginURI            string            `json:"initiate_login_uri"`
	NativeSocialLogin           NativeSocialLogin `json:"native_social_login"`
	RefreshToken                RefreshToken      `json:"refresh_token"`
	OrganizationUsage           string            `json:"organization_usage"`
	OrganizationRequireBehavior string            `json:"organization_require_behavior"`

	// Go SDK extras.
	IsTokenEndpointIPHeaderTrusted bool `json:"is_token_endpoint_ip_header_trusted"`
	// SigningKeys is read-only: filled by the Management API from the
	// tenant's keys, never stored.
	SigningKeys []map[string]string `json:"signing_keys,omitempty"`

	// JWKS holds the public keys a private_key_jwt client signs its
	// client assertions with (RFC 7523 §2.2); the token endpoint verifies
	// assertions against it. Set inline only (no jwks_uri).
	JWKS *JWKS `json:"jwks,omitempty"`

	// CreatedAt and UpdatedAt are stamped by the Management API; records
	// written before it existed (bootstrap) have none.
	CreatedAt Time `json:"created_at,omitzero"`
	UpdatedAt Time `json:"updated_at,omitzero"`

	// OIDC holds settings stored but never exposed by the API.
	OIDC ClientOIDC `json:"-"`

	// Version is the store version of the record (the ETag); 0 for a client
	// not read from the store.
	Version uint64 `json:"-"`
}

// ClientOIDC are a client's hidden OIDC registration settings (C.2). Its
// JSON tags are the storage encoding only; the API never emits them.
type ClientOIDC struct {
	// IDTokenSignedResponseAlg defaults to RS256 when empty.
	IDTokenSignedResponseAlg     string   `json:"id_token_signed_response_alg,omitempty"`
	RequireAuthTime              bool     `json:"require_auth_time,omitempty"`
	SubjectType                  string   `json:"subject_type,omitempty"`
	RevocationEndpointAuthMethod string   `json:"revocation_endpoint_auth_method,omitempty"`
	RequireSignedRequestObject   bool     `json:"require_signed_request_object,omitempty"`
	RequestURIs                  []string `json:"request_uris,omitempty"`
}

// JWTConfiguration is a client's token settings.
type JWTConfiguration struct {
	// LifetimeInSeconds accepts a number or a numeric string on input.
	LifetimeInSeconds int            `json:"lifetime_in_seconds,omitempty"`
	SecretEncoded     bool           `json:"secret_encoded,omitempty"`
	Scopes            map[string]any `json:"scopes,omitempty"`
	Alg               string         `json:"alg,omitempty"` // RS256 or HS256
}

// UnmarshalJSON accepts lifetime_in_seconds as a number or numeric string.
func (j *JWTConfiguration) UnmarshalJSON(b []byte) error {
	type plain JWTConfiguration
	var aux struct {
		plain
		LifetimeInSeconds json.RawMessage `json:"lifetime_in_seconds,omitempty"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*j = JWTConfiguration(aux.plain)
	raw := bytes.TrimSpace(aux.LifetimeInSeconds)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("model: jwt_configuration.lifetime_in_seconds: %w", err)
		}
		raw = []byte(s)
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		return fmt.Errorf("model: jwt_configuration.lifetime_in_seconds: not an integer: %q", raw)
	}
	j.LifetimeInSeconds = n
	return nil
}

// EncryptionKey is a client's WS-Fed encryption key.
type EncryptionKey struct {
	Pub     string `json:"pub,omitempty"`
	Cert    string `json:"cert,omitempty"`
	Subject string `json:"subject,omitempty"`
}

// Addons holds a client's add-on settings by name (samlp, wsfed, aws,
// azure_blob, box, salesforce, sso_integration, ...). Values are kept
// verbatim so settings this server does not interpret survive a round trip;
// typed accessors decode the ones it does.
type Addons map[string]json.RawMessage

// SAMLPAddon is the samlp add-on: the client is a SAML service provider.
type SAMLPAddon struct {
	Audience   string           `json:"audience,omitempty"`
	Consumer   string           `json:"consumer,omitempty"`
	Attributes []SAMLPAttribute `json:"attributes,omitempty"`
}

// SAMLPAttribute maps a SAML attribute name to a value expression.
type SAMLPAttribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SAMLP decodes the samlp add-on; ok is false when the client has none.
func (a Addons) SAMLP() (addon SAMLPAddon, ok bool, err error) {
	raw, ok := a["samlp"]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return SAMLPAddon{}, false, nil
	}
	if err := json.Unmarshal(raw, &addon); err != nil {
		return SAMLPAddon{}, true, fmt.Errorf("model: addons.samlp: %w", err)
	}
	return addon, true, nil
}

// Mobile is a native client's app identity.
type Mobile struct {
	Android *MobileAndroid `json:"android,omitempty"`
	IOS     *MobileIOS     `json:"ios,omitempty"`
}

// MobileAndroid identifies an Android app.
type MobileAndroid struct {
	AppPackageName         string   `json:"app_package_name,omitempty"`
	SHA256CertFingerprints []string `json:"sha256_cert_fingerprints,omitempty"`
}

// MobileIOS identifies an iOS app.
type MobileIOS struct {
	TeamID              string `json:"team_id,omitempty"`
	AppBundleIdentifier string `json:"app_bundle_identifier,omitempty"`
}

// NativeSocialLogin enables native social token exchange per provider.
type NativeSocialLogin struct {
	Apple    *Enabled `json:"apple,omitempty"`
	Facebook *Enabled `json:"facebook,omitempty"`
}

// Enabled is an {enabled} switch.
type Enabled struct {
	Enabled bool `json:"enabled"`
}

// Refresh token rotation and expiration settings.
const (
	RotationTypeRotating      = "rotating"
	RotationTypeNonRotating   = "non-rotating"
	ExpirationTypeExpiring    = "expiring"
	ExpirationTypeNonExpiring = "non-expiring"
)

// RefreshToken is a client's refresh-token policy.
type RefreshToken struct {
	RotationType              string `json:"rotation_type,omitempty"`
	ExpirationType            string `json:"expiration_type,omitempty"`
	Leeway                    int    `json:"leeway,omitempty"`
	TokenLifetime             int    `json:"token_lifetime,omitempty"`
	InfiniteTokenLifetime     bool   `json:"infinite_token_lifetime,omitempty"`
	IdleTokenLifetime         int    `json:"idle_token_lifetime,omitempty"`
	InfiniteIdleTokenLifetime bool   `json:"infinite_idle_token_lifetime,omitempty"`
}

// MarshalJSON emits every one of the 37 fields, with [] and {} for nil
// lists and objects.
func (c Client) MarshalJSON() ([]byte, error) {
	type plain Client
	p := plain(c)
	p.ResponseTypes = nonNil(p.ResponseTypes)
	p.GrantTypes = nonNil(p.GrantTypes)
	p.RedirectURIs = nonNil(p.RedirectURIs)
	p.AllowedOrigins = nonNil(p.AllowedOrigins)
	p.WebOrigins = nonNil(p.WebOrigins)
	p.ClientAliases = nonNil(p.ClientAliases)
	p.AllowedClients = nonNil(p.AllowedClients)
	p.AllowedLogoutURLs = nonNil(p.AllowedLogoutURLs)
	if p.Addons == nil {
		p.Addons = Addons{}
	}
	if p.ClientMetadata == nil {
		p.ClientMetadata = map[string]string{}
	}
	return json.Marshal(p)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
