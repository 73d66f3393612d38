package sdk

import (
	"encoding/json"
	"fmt"
)

// Trigger numbers of ABI v1.
type Trigger int32

// The triggers a handler can be registered for.
const (
	PostLogin            Trigger = 1
	CredentialsExchange  Trigger = 2
	PreUserRegistration  Trigger = 3
	PostUserRegistration Trigger = 4
	PostChangePassword   Trigger = 5
	SendPhoneMessage     Trigger = 6
)

// Handler handles one event; it issues commands through api.
type Handler func(ev *Event, api *API) error

var handlers = map[Trigger]Handler{}

// Handle registers h for trigger t; call it from an init function.
func Handle(t Trigger, h Handler) { handlers[t] = h }

// Event is the trigger's event (API.md D.2). Raw holds the whole JSON for
// fields without a typed accessor.
type Event struct {
	Secrets map[string]string `json:"secrets"`
	Tenant  struct {
		ID string `json:"id"`
	} `json:"tenant"`
	Client         Client `json:"client"`
	ResourceServer struct {
		Identifier string `json:"identifier"`
	} `json:"resource_server"`
	AccessToken struct {
		Scope        []string       `json:"scope"`
		CustomClaims map[string]any `json:"customClaims"`
	} `json:"accessToken"`
	Request Request         `json:"request"`
	User    json.RawMessage `json:"user"`
	Raw     json.RawMessage `json:"-"`
}

// Client is the application the flow runs for.
type Client struct {
	ClientID string            `json:"client_id"`
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata"`
}

// Request describes the HTTP request that started the flow.
type Request struct {
	IP        string `json:"ip"`
	Method    string `json:"method"`
	Hostname  string `json:"hostname"`
	UserAgent string `json:"user_agent"`
	Language  string `json:"language"`
}

type command struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// API collects the commands of one invocation, in order.
type API struct {
	AccessToken tokenAPI
	IDToken     tokenAPI
	Access      accessAPI
	User        userAPI
	cmds        []command
}

type tokenAPI struct {
	api    *API
	target string
}

// SetCustomClaim adds a claim to the token. The host refuses the
// registered claims (sub, aud, ...) and values over 8 KiB.
func (t tokenAPI) SetCustomClaim(name string, value any) {
	t.api.add("SetCustomClaim", map[string]any{"target": t.target, "name": name, "value": value})
}

// AddScope adds a scope to the access token.
func (t tokenAPI) AddScope(scope string) {
	t.api.add("AddScope", map[string]any{"target": t.target, "scope": scope})
}

// RemoveScope removes a scope from the access token.
func (t tokenAPI) RemoveScope(scope string) {
	t.api.add("RemoveScope", map[string]any{"target": t.target, "scope": scope})
}

type accessAPI struct{ api *API }

// Deny refuses the flow; reason becomes the error_description.
func (a accessAPI) Deny(reason string) { a.api.add("AccessDenied", reason) }

type userAPI struct{ api *API }

// SetUserMetadata merges key: value into the user's user_metadata.
func (u userAPI) SetUserMetadata(key string, value any) {
	u.api.add("SetMetadata", map[string]any{"target": "user", "key": key, "value": value})
}

// SetAppMetadata merges key: value into the user's app_metadata.
func (u userAPI) SetAppMetadata(key string, value any) {
	u.api.add("SetMetadata", map[string]any{"target": "application", "key": key, "value": value})
}

func (a *API) add(typ string, data any) { a.cmds = append(a.cmds, command{typ, data}) }

func newAPI() *API {
	a := &API{}
	a.AccessToken = tokenAPI{a, "accessToken"}
	a.IDToken = tokenAPI{a, "idToken"}
	a.Access = accessAPI{a}
	a.User = userAPI{a}
	return a
}

type moduleError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

type result struct {
	Commands []command     `json:"commands,omitempty"`
	Errors   []moduleError `json:"errors,omitempty"`
}

// dispatch runs the handler for t on the event JSON and returns the
// result JSON. It is the portable core of authok_on_trigger.
func dispatch(t Trigger, event []byte) []byte {
	h, ok := handlers[t]
	if !ok {
		return marshal(result{Errors: []moduleError{{"Error", fmt.Sprintf("no handler for trigger %d", t)}}})
	}
	ev := &Event{Raw: json.RawMessage(event)}
	if err := json.Unmarshal(event, ev); err != nil {
		return marshal(result{Errors: []moduleError{{"SyntaxError", err.Error()}}})
	}
	api := newAPI()
	if err := h(ev, api); err != nil {
		return marshal(result{Commands: api.cmds, Errors: []moduleError{{"Error", err.Error()}}})
	}
	return marshal(result{Commands: api.cmds})
}

func marshal(r result) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(result{Errors: []moduleError{{"Error", "result: " + err.Error()}}})
	}
	return b
}
