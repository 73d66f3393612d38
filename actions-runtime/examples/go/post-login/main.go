// Command post-login is an Action for the post-login trigger, written with
// the Go SDK: it refuses blocked users, puts the user's roles in the ID
// token and the organization in the access token, requires a second factor
// for admins who signed in with a password only, and records the country
// of the last login in app_metadata.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o post-login.wasm .
package main

import (
	"slices"

	"github.com/authok-edge/authok/actions-runtime/sdk"
)

func init() {
	sdk.Handle(sdk.PostLogin, func(ev *sdk.Event, api *sdk.API) error {
		if blocked, _ := ev.User.AppMetadata["blocked"].(bool); blocked {
			api.Access.Deny("this account is blocked")
			return nil
		}
		api.IDToken.SetCustomClaim("https://example.com/roles", ev.Authorization.Roles)
		if ev.Organization != nil {
			api.AccessToken.SetCustomClaim("https://example.com/org", ev.Organization.Name)
		}
		mfaDone := slices.ContainsFunc(ev.Authentication.Methods, func(m sdk.AuthenticationMethod) bool { return m.Name == "mfa" })
		if slices.Contains(ev.Authorization.Roles, "admin") && !mfaDone {
			api.Multifactor.Enable("any", map[string]bool{"allowRememberBrowser": false})
		}
		if c := ev.Request.GeoIP.CountryCode; c != "" {
			api.User.SetAppMetadata("last_login_country", c)
		}
		sdk.Logf("login %d of %s", ev.Stats.LoginsCount, ev.User.UserID)
		return nil
	})
}

func main() {}
