// Command pre-user-registration is an Action for the pre-user-registration
// trigger, written with the Go SDK: it refuses sign-ups from the e-mail
// domains listed in the action's secret BLOCKED_DOMAINS (comma-separated),
// records where the user came from (the utm_source query parameter) in
// user_metadata, and starts every user on the free plan.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o pre-user-registration.wasm .
package main

import (
	"strings"

	"github.com/authok-edge/authok/actions-runtime/sdk"
)

func init() {
	sdk.Handle(sdk.PreUserRegistration, func(ev *sdk.Event, api *sdk.API) error {
		_, domain, _ := strings.Cut(strings.ToLower(ev.User.Email), "@")
		for _, d := range strings.Split(ev.Secrets["BLOCKED_DOMAINS"], ",") {
			if d = strings.TrimSpace(strings.ToLower(d)); d != "" && d == domain {
				api.Access.Deny("sign-ups from " + domain + " are closed")
				return nil
			}
		}
		if src := ev.Request.Query.Get("utm_source"); src != "" {
			api.User.SetUserMetadata("signup_source", src)
		}
		api.User.SetAppMetadata("plan", "free")
		return nil
	})
}

func main() {}
