// Command sdkguest is a test action written with actions-runtime/sdk.
package main

import "github.com/authok-edge/authok/actions-runtime/sdk"

func init() {
	sdk.Handle(sdk.CredentialsExchange, func(ev *sdk.Event, api *sdk.API) error {
		sdk.Log("client " + ev.Client.ClientID)
		if ev.Client.ClientID == "blocked" {
			api.Access.Deny("this client gets no tokens")
			return nil
		}
		api.AccessToken.SetCustomClaim("https://example.com/tier", ev.Secrets["TIER"])
		return nil
	})
	// send-phone-message makes 10 KB of garbage per call, for the test
	// that the guest's garbage collector keeps up over many calls.
	sdk.Handle(sdk.SendPhoneMessage, func(ev *sdk.Event, api *sdk.API) error {
		garbage = garbage[:0]
		for range 100 {
			garbage = append(garbage, make([]byte, 100))
		}
		return nil
	})
}

var garbage [][]byte

func main() {}
