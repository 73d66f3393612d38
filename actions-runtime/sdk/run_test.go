package sdk_test

import (
	"testing"

	"github.com/authok-edge/authok/actions-runtime/sdk"
)

// TestRunFromAnotherPackage is how an author unit-tests a handler on the
// host: register it, Run an event, compare the result JSON.
func TestRunFromAnotherPackage(t *testing.T) {
	sdk.Handle(sdk.PostLogin, func(ev *sdk.Event, api *sdk.API) error {
		if ev.User.AppMetadata["blocked"] == true {
			api.Access.Deny("blocked")
			return nil
		}
		api.IDToken.SetCustomClaim("https://example.com/roles", ev.Authorization.Roles)
		return nil
	})
	tests := []struct{ event, want string }{
		{`{"user":{"app_metadata":{"blocked":true}}}`, `{"commands":[{"type":"AccessDenied","data":"blocked"}]}`},
		{`{"authorization":{"roles":["a"]}}`, `{"commands":[{"type":"SetCustomClaim","data":{"target":"idToken","name":"https://example.com/roles","value":["a"]}}]}`},
	}
	for _, tt := range tests {
		if got := string(sdk.Run(sdk.PostLogin, []byte(tt.event))); got != tt.want {
			t.Errorf("Run(%s) = %s, want %s", tt.event, got, tt.want)
		}
	}
}
