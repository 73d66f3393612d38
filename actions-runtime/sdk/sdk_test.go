package sdk

import (
	"errors"
	"testing"
)

func TestDispatch(t *testing.T) {
	Handle(CredentialsExchange, func(ev *Event, api *API) error {
		api.AccessToken.SetCustomClaim("https://example.com/tier", ev.Secrets["TIER"])
		api.AccessToken.AddScope("read:extra")
		if ev.Client.ClientID == "blocked" {
			api.Access.Deny("blocked client")
		}
		return nil
	})
	Handle(PostChangePassword, func(*Event, *API) error { return errors.New("boom") })
	tests := []struct {
		name    string
		trigger Trigger
		event   string
		want    string
	}{
		{"claim and scope", CredentialsExchange, `{"secrets":{"TIER":"gold"},"client":{"client_id":"c1"}}`,
			`{"commands":[{"type":"SetCustomClaim","data":{"name":"https://example.com/tier","target":"accessToken","value":"gold"}},{"type":"AddScope","data":{"scope":"read:extra","target":"accessToken"}}]}`},
		{"deny", CredentialsExchange, `{"client":{"client_id":"blocked"}}`,
			`{"commands":[{"type":"SetCustomClaim","data":{"name":"https://example.com/tier","target":"accessToken","value":""}},{"type":"AddScope","data":{"scope":"read:extra","target":"accessToken"}},{"type":"AccessDenied","data":"blocked client"}]}`},
		{"handler error", PostChangePassword, `{}`, `{"errors":[{"name":"Error","message":"boom"}]}`},
		{"no handler", PostLogin, `{}`, `{"errors":[{"name":"Error","message":"no handler for trigger 1"}]}`},
		{"bad event", CredentialsExchange, `{`, `{"errors":[{"name":"SyntaxError","message":"unexpected end of JSON input"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(dispatch(tt.trigger, []byte(tt.event))); got != tt.want {
				t.Errorf("dispatch = %s\nwant       %s", got, tt.want)
			}
		})
	}
}
