// Command post-change-password is an Action for the post-change-password
// trigger, written with the Go SDK. The trigger accepts no commands, so
// it writes an audit line to the logs. The event never holds the password.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o post-change-password.wasm .
package main

import "github.com/authok-edge/authok/actions-runtime/sdk"

func init() {
	sdk.Handle(sdk.PostChangePassword, func(ev *sdk.Event, _ *sdk.API) error {
		sdk.Logf("password changed for %s (%s) from %s", ev.User.UserID, ev.Connection.Name, ev.Request.IP)
		return nil
	})
}

func main() {}
