// Command credentials-exchange is an Action for the credentials-exchange
// trigger (client_credentials at the token endpoint), written with the Go
// SDK: it refuses clients whose metadata says blocked, puts the tenant's
// tier (the action's secret TIER) in the access token, and drops the
// write:all scope for clients not on the pro plan.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o credentials-exchange.wasm .
package main

import (
	"slices"

	"github.com/authok-edge/authok/actions-runtime/sdk"
)

func init() {
	sdk.Handle(sdk.CredentialsExchange, func(ev *sdk.Event, api *sdk.API) error {
		sdk.Logf("client %s asks for %s", ev.Client.ClientID, ev.ResourceServer.Identifier)
		if ev.Client.Metadata["blocked"] == "true" {
			api.Access.Deny("this client may not get tokens")
			return nil
		}
		tier := ev.Secrets["TIER"]
		if tier == "" {
			tier = "free"
		}
		api.AccessToken.SetCustomClaim("https://example.com/tier", tier)
		if slices.Contains(ev.AccessToken.Scope, "write:all") && ev.Client.Metadata["plan"] != "pro" {
			api.AccessToken.RemoveScope("write:all")
		}
		return nil
	})
}

func main() {}
