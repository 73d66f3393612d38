// Package tokenactions connects the token endpoint (edge/token) to the
// node's Actions executor (actions-runtime/executor): Adapter implements
// token.Actions. It builds the credentials-exchange event of API.md D.2
// from token.ExchangeEvent (the client, the API, the request with its
// body minus client_secret and client_assertion, the tenant, the access
// token's scope and custom claims, the requested scopes), each action's
// own event.secrets, and maps the commands back to token.Command.
//
// A tenant with nothing bound costs one map lookup and no allocation
// (executor.Bound), so wiring the adapter into every edge is free for
// tenants without Actions.
//
// # Wiring another trigger
//
// A later trigger (post-login in the login flow, say) takes a few lines
// here: a method on Adapter for the caller's hook interface that returns
// early unless x.Bound(tenant, abi.PostLogin), an Event whose AppendEvent
// writes that trigger's D.2 event (user, transaction, ...; reflecting
// earlier commands where the trigger says so) around the secrets it is
// given, and a switch mapping the abi commands the trigger allows
// (abi.Decode already refuses the others) to the caller's commands. The
// executor loads, orders, times and records every trigger alike.
package tokenactions
