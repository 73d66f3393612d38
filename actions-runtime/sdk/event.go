package sdk

import (
	"bytes"
	"encoding/json"
)

// Event is the trigger's event (API.md D.2). Each trigger fills the parts
// that concern it (the table in docs/actions.md); the others stay zero.
// Fields the SDK does not know are ignored, and Raw holds the whole JSON
// for them. A password is never part of an event.
type Event struct {
	// Secrets are this action's secrets, by name.
	Secrets        map[string]string `json:"secrets"`
	Tenant         Tenant            `json:"tenant"`
	Client         Client            `json:"client"`
	ResourceServer ResourceServer    `json:"resource_server"`
	Request        Request           `json:"request"`
	Transaction    Transaction       `json:"transaction"`
	User           User              `json:"user"`
	Connection     Connection        `json:"connection"`
	// Organization is nil when the flow has none.
	Organization   *Organization  `json:"organization"`
	Authorization  Authorization  `json:"authorization"`
	Authentication Authentication `json:"authentication"`
	Stats          Stats          `json:"stats"`
	// AccessToken is the access token so far (credentials-exchange).
	AccessToken AccessToken `json:"accessToken"`
	// MessageOptions is the message to send (send-phone-message).
	MessageOptions MessageOptions  `json:"message_options"`
	Raw            json.RawMessage `json:"-"`
}

// Tenant is the tenant the flow runs in.
type Tenant struct {
	ID string `json:"id"`
}

// Client is the application the flow runs for.
type Client struct {
	ClientID string            `json:"client_id"`
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata"`
}

// ResourceServer is the API an access token is for.
type ResourceServer struct {
	Identifier string `json:"identifier"`
}

// Request describes the HTTP request that started the flow. Body holds
// its parameters (never a client secret or a password).
type Request struct {
	IP        string `json:"ip"`
	Method    string `json:"method"`
	Hostname  string `json:"hostname"`
	UserAgent string `json:"user_agent"`
	Language  string `json:"language"`
	Body      Params `json:"body"`
	Query     Params `json:"query"`
	Headers   Params `json:"headers"`
	GeoIP     GeoIP  `json:"geoip"`
}

// GeoIP is where the request came from, as far as the host knows.
type GeoIP struct {
	CityName        string  `json:"cityName"`
	ContinentCode   string  `json:"continentCode"`
	CountryCode     string  `json:"countryCode"`
	CountryCode3    string  `json:"countryCode3"`
	CountryName     string  `json:"countryName"`
	Latitude        float64 `json:"latitude"`
	Longitude       float64 `json:"longitude"`
	SubdivisionCode string  `json:"subdivisionCode"`
	SubdivisionName string  `json:"subdivisionName"`
	TimeZone        string  `json:"timeZone"`
}

// Transaction describes the authorization request of the flow.
type Transaction struct {
	Protocol        string   `json:"protocol"`
	Prompt          []string `json:"prompt"`
	Locale          string   `json:"locale"`
	RequestedScopes []string `json:"requested_scopes"`
	RedirectURI     string   `json:"redirect_uri"`
	LoginHint       string   `json:"login_hint"`
	ResponseMode    string   `json:"response_mode"`
	ResponseType    []string `json:"response_type"`
	State           string   `json:"state"`
	ACRValues       []string `json:"acr_values"`
	UILocales       []string `json:"ui_locales"`
}

// User is the user the flow is about. At pre-user-registration it is the
// user about to be created (no UserID yet).
type User struct {
	UserID        string `json:"user_id"`
	Username      string `json:"username"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	PhoneNumber   string `json:"phone_number"`
	// PhoneVerified reads Auth0's phone_verified or Authok's
	// phone_number_verified.
	PhoneVerified bool           `json:"phone_verified"`
	Name          string         `json:"name"`
	Nickname      string         `json:"nickname"`
	GivenName     string         `json:"given_name"`
	FamilyName    string         `json:"family_name"`
	Picture       string         `json:"picture"`
	CreatedAt     string         `json:"created_at"`
	UpdatedAt     string         `json:"updated_at"`
	Identities    []Identity     `json:"identities"`
	UserMetadata  map[string]any `json:"user_metadata"`
	AppMetadata   map[string]any `json:"app_metadata"`
}

// UnmarshalJSON accepts Authok's phone_number_verified for PhoneVerified.
func (u *User) UnmarshalJSON(b []byte) error {
	type plain User
	aux := struct {
		*plain
		PhoneNumberVerified *bool `json:"phone_number_verified"`
	}{plain: (*plain)(u)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if aux.PhoneNumberVerified != nil && *aux.PhoneNumberVerified {
		u.PhoneVerified = true
	}
	return nil
}

// Identity is one of the user's accounts at an identity provider.
type Identity struct {
	// UserID is the provider's id of the user; a numeric id (some social
	// providers use them) reads as its decimal text.
	UserID     string `json:"user_id"`
	Provider   string `json:"provider"`
	Connection string `json:"connection"`
	IsSocial   bool   `json:"isSocial"`
}

// UnmarshalJSON accepts a numeric user_id and Authok's is_social.
func (id *Identity) UnmarshalJSON(b []byte) error {
	type plain Identity
	aux := struct {
		*plain
		UserID   json.RawMessage `json:"user_id"`
		IsSocial *bool           `json:"is_social"`
	}{plain: (*plain)(id)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if aux.IsSocial != nil && *aux.IsSocial {
		id.IsSocial = true
	}
	id.UserID = text(aux.UserID)
	return nil
}

// Connection is the connection the user authenticates with.
type Connection struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Strategy string            `json:"strategy"`
	Metadata map[string]string `json:"metadata"`
}

// Organization is the organization of the flow.
type Organization struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	DisplayName string            `json:"display_name"`
	Metadata    map[string]string `json:"metadata"`
}

// Authorization is what the user may do.
type Authorization struct {
	Roles []string `json:"roles"`
}

// Authentication is how the user authenticated in this session.
type Authentication struct {
	Methods []AuthenticationMethod `json:"methods"`
}

// AuthenticationMethod is one method the user completed ("pwd", "mfa").
type AuthenticationMethod struct {
	Name      string `json:"name"`
	Timestamp string `json:"timestamp"`
}

// Stats are the user's counters.
type Stats struct {
	LoginsCount int `json:"logins_count"`
}

// AccessToken is the access token the grant decided, before the actions.
type AccessToken struct {
	Scope        []string       `json:"scope"`
	CustomClaims map[string]any `json:"customClaims"`
}

// MessageOptions is the message send-phone-message is asked to deliver.
type MessageOptions struct {
	Recipient string `json:"recipient"`
	Text      string `json:"text"`
	// MessageType is "sms" or "voice".
	MessageType string `json:"message_type"`
	// Action is what the message is for ("enrollment", "second-factor-authentication").
	Action   string `json:"action"`
	Language string `json:"language"`
	Code     string `json:"code"`
}

// Params are a request's body, query or headers: each name's values. A
// JSON string is one value, an array of strings several; any other JSON
// value (a number, an object) is kept as its JSON text.
type Params map[string][]string

// Get returns the first value of name, or "".
func (p Params) Get(name string) string {
	if vs := p[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// UnmarshalJSON reads a JSON object of strings, arrays or other values.
func (p *Params) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	out := make(Params, len(m))
	for k, raw := range m {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err == nil {
			vs := make([]string, 0, len(list))
			for _, v := range list {
				vs = append(vs, text(v))
			}
			out[k] = vs
			continue
		}
		out[k] = []string{text(raw)}
	}
	*p = out
	return nil
}

// text is a JSON string's value, "" for null or nothing, and any other
// value's compact JSON text.
func text(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var c bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		return string(raw)
	}
	return c.String()
}
