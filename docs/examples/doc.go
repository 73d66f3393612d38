// Package examples holds no code: it is the home of the worked examples
// that docs/api.md shows (m2m.sh with curl, jq and openssl; node/ with
// Auth0's official Node.js SDK), of docs/actions.md's (actions.sh: a WAT
// action built with wat2wasm, created, tested, deployed and bound, then
// its claim in a token and its deny), and of the tests that run them
// against a real `authok dev`, so the documentation cannot drift from what
// the server does. Every command line of the two walk-throughs' sh blocks
// must be a line of its script.
//
// The test builds cmd/authok, starts `authok dev` on a free loopback port
// with a temporary data dir, runs each example (and the README's "What
// works today" one) against it and checks that it ends with its "verified"
// line, and that bad inputs (a wrong bootstrap secret, an API identifier
// that already exists) fail with the server's error body. It is skipped
// under -short, when curl, jq or openssl are missing, and, for the Node
// example, when node or its node_modules are missing (run `npm ci` in
// node/ first). Under CI (CI=true) a missing tool fails the test instead:
// .ci/run installs them all.
package examples
