// Command guest is the executor tests' action, written with the Go SDK.
// Its secrets steer it, so one module serves every action of a chain:
// MODE (claim, deny, loop, panic, error), CLAIM and VALUE. In claim mode
// it sets CLAIM to VALUE and CLAIM+"/seen" to what its event held: the
// names of its secrets, of the custom claims so far, and the scope.
package main

import (
	"encoding/json"
	"errors"
	"sort"

	"github.com/authok-edge/authok/actions-runtime/sdk"
)

type seen struct {
	Secrets []string          `json:"secrets"`
	Claims  []string          `json:"claims"`
	Scope   []string          `json:"scope"`
	Body    map[string]string `json:"body"`
	Tenant  string            `json:"tenant"`
	Client  string            `json:"client"`
}

var spin int

func init() {
	sdk.Handle(sdk.CredentialsExchange, func(ev *sdk.Event, api *sdk.API) error {
		s := ev.Secrets
		switch s["MODE"] {
		case "deny":
			api.Access.Deny(s["VALUE"])
			return nil
		case "loop":
			for {
				spin++
			}
		case "panic":
			panic("guest panics")
		case "error":
			return errors.New("guest refuses: " + s["VALUE"])
		}
		var raw struct {
			Request struct {
				Body map[string]string `json:"body"`
			} `json:"request"`
		}
		_ = json.Unmarshal(ev.Raw, &raw)
		w := seen{Scope: ev.AccessToken.Scope, Body: raw.Request.Body, Tenant: ev.Tenant.ID, Client: ev.Client.ClientID}
		for k := range s {
			w.Secrets = append(w.Secrets, k)
		}
		for k := range ev.AccessToken.CustomClaims {
			w.Claims = append(w.Claims, k)
		}
		sort.Strings(w.Secrets)
		sort.Strings(w.Claims)
		api.AccessToken.SetCustomClaim(s["CLAIM"], s["VALUE"])
		api.AccessToken.SetCustomClaim(s["CLAIM"]+"/seen", w)
		if s["ADD_SCOPE"] != "" {
			api.AccessToken.AddScope(s["ADD_SCOPE"])
		}
		return nil
	})
}

func main() {}
