// Package sdk is for authors of Actions in Go: a guest program built with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared registers a handler
// per trigger in an init function, and the package implements ABI v1
// (docs/actions-abi.md) around it: it exports authok_abi_v1, authok_alloc
// and authok_on_trigger, decodes the event, and returns the commands the
// handler issued through API.
//
//	func init() {
//		sdk.Handle(sdk.CredentialsExchange, func(ev *sdk.Event, api *sdk.API) error {
//			api.AccessToken.SetCustomClaim("https://example.com/tier", ev.Secrets["TIER"])
//			return nil
//		})
//	}
//
//	func main() {}
//
// A handler's returned error becomes the result's errors (the action
// failed); a panic crashes the invocation.
package sdk
