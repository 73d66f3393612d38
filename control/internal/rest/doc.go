// Package rest is the Management API's request toolkit: what every
// resource handler of control/mgmtapi does the same way, so a resource's
// file holds only its own rules (which members it takes, its cross-field
// checks, its store calls).
//
//   - Bodies (body.go): ReadObject takes application/json only (415), at
//     most a limit (413), exactly one JSON object without a duplicate key
//     at any depth and no deeper than MaxDepth (400 invalid_body). An
//     Object is read member by member (String, Int, Enum, Strings,
//     Object, ...); a getter records a problem naming the field in the
//     Problems the object shares with its parent and children instead of
//     failing, Finish reports members nobody read, and Errs().Err() is
//     one 400 listing them all. Pick reads a member with an SDK alias;
//     IgnoreReadOnly and ReadOnlyEqual let an object read from the API be
//     sent back.
//   - Checks (validate.go): value checks for Strings and StringChecked
//     (redirect URLs, web URLs, origins, tokens, free text, email), each
//     returning the value to keep or the reason it is refused.
//   - Lists (query.go, list.go): ParseListQuery reads page (0 is 1),
//     page_size or per_page (page_size wins; clamped to MaxPageSize),
//     include_totals, sort in both spellings ("-a,b" and Auth0's "a:1"),
//     fields/include_fields and a ListSpec's equality filters (400
//     invalid_query_string naming the parameter); Paginate filters, sorts
//     stably, pages and projects rendered items into the envelope
//     {"meta":{...},"items":[...]}.
//   - Answers (write.go, errors.go): WriteJSON with the headers every
//     answer carries and the version as a strong ETag; IfMatch and
//     Precondition.Check (RFC 9110 §13.1.1, 412); the API errors the
//     toolkit gives, as apierror values that apierror.Write renders.
//   - Scaffolding (resource.go): Resource[T], generic over the record
//     type, knows a resource's ListSpec, renderer and version and answers
//     list (query read before the store, adjusters for canonical filter
//     values), get (projection checked before the load), created, ok and
//     delete, and runs an update closure inside the store's compare-and-swap with If-Match
//     checked against the version being replaced. Changes[T] holds the
//     setters a parsed body gives (and which members it named), applied
//     to a new record or inside that closure.
//
// This package knows no resource, no store and no tenant: it must never
// import shared/repo or shared/model, and never put an internal error's
// text in a response body (errors that are not *apierror.Error are the
// caller's to log and render as 500).
package rest
