package sdk

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Trigger numbers of ABI v1.
type Trigger int32

// The triggers a handler can be registered for (API.md D.1).
const (
	PostLogin            Trigger = 1
	CredentialsExchange  Trigger = 2
	PreUserRegistration  Trigger = 3
	PostUserRegistration Trigger = 4
	PostChangePassword   Trigger = 5
	SendPhoneMessage     Trigger = 6
)

// Handler handles one event; it issues commands through api. A returned
// error is reported as the action's error (the action failed); the
// commands issued before it are returned too, and the host discards them.
type Handler func(ev *Event, api *API) error

var handlers = map[Trigger]Handler{}

// Handle registers h for trigger t; call it from an init function. A
// module may handle several triggers; an event for a trigger without a
// handler answers an error.
func Handle(t Trigger, h Handler) { handlers[t] = h }

// API collects the commands of one invocation, in order (API.md D.3).
// Which trigger accepts which command is in docs/actions-abi.md; the host
// refuses the whole result when a command is not available in the
// trigger (an ID token claim at credentials-exchange, say).
type API struct {
	AccessToken AccessTokenAPI
	IDToken     IDTokenAPI
	Access      AccessAPI
	User        UserAPI
	Multifactor MultifactorAPI
	cmds        []command
	errs        []moduleError
}

// AccessTokenAPI is api.accessToken (credentials-exchange, post-login).
type AccessTokenAPI struct{ api *API }

// SetCustomClaim adds a claim to the access token. The host refuses the
// claims the platform sets (sub, aud, scope, ...), names over 256 bytes
// and values over 8 KiB.
func (t AccessTokenAPI) SetCustomClaim(name string, value any) {
	t.api.add("SetCustomClaim", claimData{"accessToken", name, value})
}

// AddScope adds a scope to the access token.
func (t AccessTokenAPI) AddScope(scope string) {
	t.api.add("AddScope", scopeData{"accessToken", scope})
}

// RemoveScope removes a scope from the access token.
func (t AccessTokenAPI) RemoveScope(scope string) {
	t.api.add("RemoveScope", scopeData{"accessToken", scope})
}

// IDTokenAPI is api.idToken (post-login).
type IDTokenAPI struct{ api *API }

// SetCustomClaim adds a claim to the ID token, with the access token's
// restrictions.
func (t IDTokenAPI) SetCustomClaim(name string, value any) {
	t.api.add("SetCustomClaim", claimData{"idToken", name, value})
}

// AccessAPI is api.access (credentials-exchange, post-login,
// pre-user-registration).
type AccessAPI struct{ api *API }

// Deny refuses the flow; reason (at most 512 bytes) becomes the
// error_description of the access_denied error.
func (a AccessAPI) Deny(reason string) { a.api.add("AccessDenied", reason) }

// UserAPI is api.user (post-login, pre-user-registration).
type UserAPI struct{ api *API }

// SetUserMetadata merges key: value into the user's user_metadata.
func (u UserAPI) SetUserMetadata(key string, value any) {
	u.api.add("SetMetadata", metadataData{"user", key, value})
}

// SetAppMetadata merges key: value into the user's app_metadata.
func (u UserAPI) SetAppMetadata(key string, value any) {
	u.api.add("SetMetadata", metadataData{"application", key, value})
}

// MultifactorAPI is api.multifactor (post-login).
type MultifactorAPI struct{ api *API }

// Enable requires a multi-factor step with provider ("any", "guardian",
// ...); options (nil for none) is passed on as JSON, as Auth0's
// {allowRememberBrowser, providerOptions}.
func (m MultifactorAPI) Enable(provider string, options any) {
	m.api.add("RequireMultifactor", mfaData{provider, options})
}

type claimData struct {
	Target string `json:"target"`
	Name   string `json:"name"`
	Value  any    `json:"value"`
}

type scopeData struct {
	Target string `json:"target"`
	Scope  string `json:"scope"`
}

type metadataData struct {
	Target string `json:"target"`
	Key    string `json:"key"`
	Value  any    `json:"value"`
}

type mfaData struct {
	Provider string `json:"provider"`
	Options  any    `json:"options,omitempty"`
}

type command struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// add encodes data now, so that a value JSON cannot encode fails the
// call that passed it (reported as the action's error), not the result.
func (a *API) add(typ string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		a.errs = append(a.errs, moduleError{"TypeError", fmt.Sprintf("%s: %v", typ, err)})
		return
	}
	a.cmds = append(a.cmds, command{typ, b})
}

func newAPI() *API {
	a := &API{}
	a.AccessToken = AccessTokenAPI{a}
	a.IDToken = IDTokenAPI{a}
	a.Access = AccessAPI{a}
	a.User = UserAPI{a}
	a.Multifactor = MultifactorAPI{a}
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

// Run does what authok_on_trigger does, on any platform: it runs the
// handler registered for t on the event JSON and returns the result JSON
// the host would read. Use it to unit-test handlers with go test on the
// host.
func Run(t Trigger, event []byte) []byte { return dispatch(t, event) }

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
	err := h(ev, api)
	if err != nil {
		api.errs = append(api.errs, moduleError{"Error", err.Error()})
	}
	return marshal(result{Commands: api.cmds, Errors: api.errs})
}

// Logf writes one formatted line to the invocation's logs (see Log).
func Logf(format string, args ...any) { Log(fmt.Sprintf(format, args...)) }

// Bounds of the result's errors in ABI v1: past them the host would
// refuse the whole result, so the SDK cuts instead.
const (
	maxErrors       = 10
	maxErrorMessage = 1024
)

func marshal(r result) []byte {
	if len(r.Errors) > maxErrors {
		r.Errors = r.Errors[:maxErrors]
	}
	for i := range r.Errors {
		r.Errors[i].Message = cut(r.Errors[i].Message, maxErrorMessage)
	}
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(result{Errors: []moduleError{{"Error", "result: " + err.Error()}}})
	}
	return b
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence,
// and replaces invalid UTF-8 (the host refuses it).
func cut(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
