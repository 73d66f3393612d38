// Command post-user-registration is an Action for the
// post-user-registration trigger, written with the Go SDK. The trigger
// accepts no commands (the user exists already) and actions have no
// network, so it records the sign-up in the logs; a handler error would
// be reported as the action's failure without undoing the sign-up.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o post-user-registration.wasm .
package main

import "github.com/authok-edge/authok/actions-runtime/sdk"

func init() {
	sdk.Handle(sdk.PostUserRegistration, func(ev *sdk.Event, _ *sdk.API) error {
		sdk.Logf("new user %s (%s) through %s", ev.User.UserID, ev.User.Email, ev.Connection.Name)
		return nil
	})
}

func main() {}
