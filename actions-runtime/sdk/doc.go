// Package sdk is for authors of Actions in Go: a guest program built with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared registers a handler
// per trigger in an init function, and the package implements ABI v1
// (docs/actions-abi.md) around it: it exports authok_abi_v1, authok_alloc
// and authok_on_trigger, decodes the event into Event (every field of
// API.md D.2, typed; unknown fields ignored, the whole JSON in Event.Raw),
// and returns the commands the handler issued through API, in order:
//
//	api.AccessToken.SetCustomClaim / AddScope / RemoveScope
//	api.IDToken.SetCustomClaim
//	api.Access.Deny
//	api.User.SetUserMetadata / SetAppMetadata
//	api.Multifactor.Enable
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
// failed); a panic crashes the invocation. Log and Logf write the
// invocation's logs (so do fmt.Print and os.Stdout). Built for any other
// platform the package has no exports and Log writes to standard error,
// so handlers can be unit-tested on the host with Run, which returns the
// result JSON the host would read.
//
// actions-runtime/examples/go has one program per trigger.
package sdk
