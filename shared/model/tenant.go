package model

import "encoding/json"

// Tenant is a tenant's settings (API.md C.7). ID and Name are equal in
// authok-edge: the name is the DNS label that prefixes the tenant's host and
// every one of its store keys, and it never changes.
type Tenant struct {
	ID                           string                  `json:"id"`
	Name                         string                  `json:"name"`
	DisplayName                  string                  `json:"display_name"`
	Domain                       string                  `json:"domain,omitempty"`
	Description                  string                  `json:"description"`
	Region                       string                  `json:"region"`
	Environment                  string                  `json:"environment"`
	Picture                      string                  `json:"picture,omitempty"`
	SupportEmail                 string                  `json:"support_email,omitempty"`
	SupportURL                   string                  `json:"support_url,omitempty"`
	AllowedLogoutURLs            []string                `json:"allowed_logout_urls,omitempty"`
	SessionLifetime              float64                 `json:"session_lifetime,omitempty"`      // hours
	IdleSessionLifetime          float64                 `json:"idle_session_lifetime,omitempty"` // hours
	SessionLifetimeInMinutes     int                     `json:"session_lifetime_in_minutes,omitempty"`
	IdleSessionLifetimeInMinutes int                     `json:"idle_session_lifetime_in_minutes,omitempty"`
	SandboxVersion               string                  `json:"sandbox_version,omitempty"`
	SandboxVersionsAvailable     []string                `json:"sandbox_versions_available,omitempty"`
	DefaultRedirectionURI        string                  `json:"default_redirection_uri,omitempty"`
	DefaultAudience              string                  `json:"default_audience,omitempty"`
	DefaultConnection            string                  `json:"default_connection,omitempty"`
	EnabledLocales               []string                `json:"enabled_locales,omitempty"`
	SessionCookie                *SessionCookie          `json:"session_cookie,omitempty"`
	ChangePassword               *CustomPage             `json:"change_password,omitempty"`
	GuardianMFAPage              *CustomPage             `json:"guardian_mfa_page,omitempty"`
	ErrorPage                    *ErrorPage              `json:"error_page,omitempty"`
	DeviceFlow                   *DeviceFlow             `json:"device_flow,omitempty"`
	UniversalLogin               *UniversalLogin         `json:"universal_login,omitempty"`
	JWTConfiguration             *TenantJWTConfiguration `json:"jwt_configuration,omitempty"`
	Config                       map[string]any          `json:"config,omitempty"`
	// ActionsTimeoutMS is the deadline of one action invocation in
	// milliseconds (an authok-edge extension; 0 = the cluster's default).
	// The executor caps it by the cluster's maximum.
	ActionsTimeoutMS int `json:"actions_timeout_ms,omitempty"`
	// Flags holds every flag by name, including ones this server does not
	// interpret; the Flag* constants name the known ones.
	Flags map[string]bool `json:"flags,omitempty"`

	// Internal is stored but never part of the tenant settings JSON.
	Internal TenantInternal `json:"-"`

	// Version is the store version of the record (the ETag).
	Version uint64 `json:"-"`
}

// TenantInternal is what authok-edge keeps about a tenant beyond its
// settings. Its JSON tags are the storage encoding only.
type TenantInternal struct {
	// Issuer is the tenant's OIDC issuer: an absolute http(s) URL ending in
	// "/". Its host is the tenant's host.
	Issuer string `json:"issuer"`
	// ManagementClientID is the client created with the tenant to call its
	// Management API (bootstrap reports its credentials).
	ManagementClientID string `json:"management_client_id,omitempty"`
}

// Session cookie modes.
const (
	SessionCookiePersistent    = "persistent"
	SessionCookieNonPersistent = "non-persistent"
)

// SessionCookie selects the session cookie's mode.
type SessionCookie struct {
	Mode string `json:"mode,omitempty"`
}

// CustomPage is a page that may be replaced by tenant HTML
// (change_password, guardian_mfa_page).
type CustomPage struct {
	Enabled bool   `json:"enabled"`
	HTML    string `json:"html,omitempty"`
}

// ErrorPage configures the tenant's error page.
type ErrorPage struct {
	HTML        string `json:"html,omitempty"`
	ShowLogLink bool   `json:"show_log_link"`
	URL         string `json:"url,omitempty"`
}

// DeviceFlow configures device-code user codes.
type DeviceFlow struct {
	Charset string `json:"charset,omitempty"` // base20 or digits
	Mask    string `json:"mask,omitempty"`
}

// UniversalLogin holds hosted login page styling.
type UniversalLogin struct {
	Colors *UniversalLoginColors `json:"colors,omitempty"`
}

// UniversalLoginColors are the hosted login page colours.
type UniversalLoginColors struct {
	Primary string `json:"primary,omitempty"`
	// PageBackground is a colour string or a gradient object; kept verbatim.
	PageBackground json.RawMessage `json:"page_background,omitempty"`
}

// TenantJWTConfiguration is the tenant's default token settings.
type TenantJWTConfiguration struct {
	Alg               string `json:"alg,omitempty"`
	LifetimeInSeconds int    `json:"lifetime_in_seconds,omitempty"`
	SecretEncoded     bool   `json:"secret_encoded,omitempty"`
}

// Known tenant flag names (Tenant.Flags).
const (
	FlagEnableClientConnections              = "enable_client_connections"
	FlagEnableAPIsSection                    = "enable_apis_section"
	FlagEnableDynamicClientRegistration      = "enable_dynamic_client_registration"
	FlagEnableCustomDomainInEmails           = "enable_custom_domain_in_emails"
	FlagAllowLegacyTokenInfoEndpoint         = "allow_legacy_tokeninfo_endpoint"
	FlagEnableLegacyProfile                  = "enable_legacy_profile"
	FlagEnablePublicSignupUserExistsError    = "enable_public_signup_user_exists_error"
	FlagAllowLegacyDelegationGrantTypes      = "allow_legacy_delegation_grant_types"
	FlagAllowLegacyROGrantTypes              = "allow_legacy_ro_grant_types"
	FlagEnableSSO                            = "enable_sso"
	FlagDisableClickjackProtectionHeaders    = "disable_clickjack_protection_headers"
	FlagNoDiscloseEnterpriseConnections      = "no_disclose_enterprise_connections"
	FlagDisableManagementAPISMSObfuscation   = "disable_management_api_sms_obfuscation"
	FlagEnforceClientAuthOnPasswordlessStart = "enforce_client_authentication_on_passwordless_start"
	FlagRevokeRefreshTokenGrant              = "revoke_refresh_token_grant"
)
