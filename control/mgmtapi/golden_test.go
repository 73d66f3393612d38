package mgmtapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authok-edge/authok/control/mgmtapi"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/wire.golden from the API's answers")

// goldenNow is the API's clock in TestWireIsStable.
var goldenNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// goldenHeaders are the response headers the wire format includes.
var goldenHeaders = []string{"Content-Type", "Cache-Control", "X-Content-Type-Options", "ETag", "WWW-Authenticate", "Allow"}

// goldenCase is one request of TestWireIsStable; {name} in path, query
// and body is replaced by the value captured under name from an earlier
// answer.
type goldenCase struct {
	name    string
	method  string
	path    string
	body    string
	ctype   string // as req.ctype
	token   string // "" every scope; "-" none; "bad" a malformed token; else a space-separated scope list
	headers map[string]string
	host    string
	capture map[string]string // name -> top-level member of the answer
	hash    bool              // record the body's SHA-256, not the body
}

// TestWireIsStable pins the Management API's answers, byte for byte
// (status, the headers that carry meaning, body), across every resource
// and its bad inputs: the request toolkit moved out of this package
// without the wire changing. Values a fresh env makes differently on each
// run (the port, bootstrap's ids and timestamps, key material) are
// replaced by placeholders; everything the API makes comes from a fixed
// clock and a seeded random source. go test -run TestWireIsStable
// -update rewrites the file after an intended change.
func TestWireIsStable(t *testing.T) {
	e := newEnv(t, func(c *mgmtapi.Config) {
		c.Now = func() time.Time { return goldenNow }
		c.Rand = rand.NewChaCha8([32]byte{'g', 'o', 'l', 'd', 'e', 'n'})
	})
	module := base64.StdEncoding.EncodeToString(wasm(t, watClaim))
	big := `{"name":"` + strings.Repeat("x", mgmtapi.DefaultMaxBodyBytes) + `"}`
	cases := []goldenCase{
		// The shared phases.
		{name: "unknown host: the default tenant", path: "/clients?fields=name&sort=name", host: "nobody.test"},
		{name: "no token", path: "/clients", token: "-"},
		{name: "malformed token", path: "/clients", token: "bad"},
		{name: "insufficient scope", path: "/clients", token: "read:resource_servers"},
		{name: "either scope of triggers", path: "/triggers", token: "read:triggers"},
		{name: "method not allowed", method: "PUT", path: "/clients"},
		{name: "unknown route", path: "/nothing"},
		{name: "openapi document", path: "/openapi.json", token: "-", hash: true},

		// Clients.
		{name: "create client", method: "POST", path: "/clients",
			body:    `{"name":"golden app","app_type":"regular_web","callbacks":["https://app.test/cb"],"allowed_origins":["HTTPS://App.Test/"]}`,
			capture: map[string]string{"client": "client_id", "secret": "client_secret"}},
		{name: "create m2m client", method: "POST", path: "/clients", body: `{"name":"golden m2m","app_type":"non_interactive"}`,
			capture: map[string]string{"m2m": "client_id"}},
		{name: "create client: text/plain", method: "POST", path: "/clients", body: `{"name":"x"}`, ctype: "text/plain"},
		{name: "create client: no content type", method: "POST", path: "/clients", body: `{"name":"x"}`, ctype: "-"},
		{name: "create client: latin1 charset", method: "POST", path: "/clients", body: `{"name":"x"}`, ctype: "application/json; charset=latin1"},
		{name: "create client: empty body", method: "POST", path: "/clients", body: ` `},
		{name: "create client: not JSON", method: "POST", path: "/clients", body: `{"name":`},
		{name: "create client: syntax error", method: "POST", path: "/clients", body: `{"name" "x"}`},
		{name: "create client: array", method: "POST", path: "/clients", body: `["x"]`},
		{name: "create client: two values", method: "POST", path: "/clients", body: `{"name":"x"} {}`},
		{name: "create client: duplicate key", method: "POST", path: "/clients", body: `{"name":"x","jwt_configuration":{"alg":"RS256","alg":"PS256"}}`},
		{name: "create client: too deep", method: "POST", path: "/clients", body: `{"client_metadata":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 41)},
		{name: "create client: too large", method: "POST", path: "/clients", body: big},
		{name: "create client: many problems", method: "POST", path: "/clients",
			body: `{"app_type":"robot","is_first_party":"yes","callbacks":["javascript:alert(1)","https://a.test/#f"],"unknown":1,"jwt_configuration":{"lifetime_in_seconds":-1,"extra":true},"logo_uri":"http://insecure.test/x.png","client_aliases":[1]}`},
		{name: "create client: aliases differ", method: "POST", path: "/clients", body: `{"name":"x","callbacks":["https://a.test/1"],"redirect_uris":["https://a.test/2"]}`},
		{name: "create client: public with client_credentials", method: "POST", path: "/clients", body: `{"name":"x","token_endpoint_auth_method":"none","grant_types":["client_credentials"]}`},
		{name: "create client: null boolean", method: "POST", path: "/clients", body: `{"name":"x","sso":null}`},
		{name: "get client", path: "/clients/{client}"},
		{name: "get client: projection", path: "/clients/{client}?fields=name,app_type,callbacks&include_fields=true"},
		{name: "get client: exclusion", path: "/clients/{client}?fields=signing_keys,client_secret,jwt_configuration,refresh_token&include_fields=false"},
		{name: "get client: without read:client_keys", path: "/clients/{client}?fields=client_id,client_secret", token: "read:clients"},
		{name: "get client: unknown field", path: "/clients/{client}?fields=nope"},
		{name: "get client: bad include_fields", path: "/clients/{client}?fields=name&include_fields=maybe"},
		{name: "get client: unknown", path: "/clients/nobody"},
		{name: "get client: escaped id", path: "/clients/a%7Cb%2Fc"},
		{name: "list clients", path: "/clients?fields=client_id,name,app_type&sort=name:1"},
		{name: "list clients: paging", path: "/clients?page=1&per_page=1&include_totals=true&fields=name&sort=-name"},
		{name: "list clients: page_size wins", path: "/clients?per_page=1&page_size=2&fields=name&sort=name"},
		{name: "list clients: page 0 and clamp", path: "/clients?page=0&page_size=500&fields=name&sort=name"},
		{name: "list clients: filters", path: "/clients?app_type=regular_web&app_type=non_interactive&is_first_party=true&fields=name,app_type&sort=app_type,-name"},
		{name: "list clients: bad page", path: "/clients?page=-1"},
		{name: "list clients: bad per_page", path: "/clients?per_page=x"},
		{name: "list clients: bad include_totals", path: "/clients?include_totals=sometimes"},
		{name: "list clients: bad sort field", path: "/clients?sort=secret"},
		{name: "list clients: bad sort direction", path: "/clients?sort=1"},
		{name: "list clients: bad enum filter", path: "/clients?app_type=robot"},
		{name: "list clients: bad bool filter", path: "/clients?is_first_party=maybe"},
		{name: "patch client", method: "PATCH", path: "/clients/{client}", body: `{"description":"golden","web_origins":["https://App.test"]}`},
		{name: "patch client: If-Match current", method: "PATCH", path: "/clients/{client}", body: `{"description":"matched"}`, headers: map[string]string{"If-Match": `W/"1", "999999", *`}},
		{name: "patch client: If-Match stale", method: "PATCH", path: "/clients/{client}", body: `{"description":"stale"}`, headers: map[string]string{"If-Match": `"1"`}},
		{name: "patch client: weak If-Match", method: "PATCH", path: "/clients/{client}", body: `{"description":"weak"}`, headers: map[string]string{"If-Match": `W/"1"`}},
		{name: "patch client: immutable client_id", method: "PATCH", path: "/clients/{client}", body: `{"client_id":"other"}`},
		{name: "patch client: key field without update:client_keys", method: "PATCH", path: "/clients/{client}", body: `{"token_endpoint_auth_method":"client_secret_basic"}`, token: "update:clients"},
		{name: "patch client: bad field", method: "PATCH", path: "/clients/{client}", body: `{"grant_types":["magic"]}`},
		{name: "patch client: unknown", method: "PATCH", path: "/clients/nobody", body: `{"description":"x"}`},
		{name: "rotate secret: stale If-Match", method: "POST", path: "/clients/{client}/rotate-secret", headers: map[string]string{"If-Match": `"2"`}},
		{name: "rotate secret", method: "POST", path: "/clients/{client}/rotate-secret"},
		{name: "rotate secret: unknown", method: "POST", path: "/clients/nobody/rotate-secret"},
		{name: "delete management client", method: "DELETE", path: "/clients/{mgmt}"},

		// Resource servers.
		{name: "create resource server", method: "POST", path: "/resource-servers",
			body:    `{"identifier":"https://api.golden.test/","scopes":[{"value":"read:things","description":"Read things"},{"value":"write:things"}],"token_lifetime":3600}`,
			capture: map[string]string{"rs": "id"}},
		{name: "create resource server: duplicate", method: "POST", path: "/resource-servers", body: `{"identifier":"https://api.golden.test/"}`},
		{name: "create resource server: management spelling", method: "POST", path: "/resource-servers", body: `{"identifier":"{issuer}api/v2/"}`},
		{name: "create resource server: bad", method: "POST", path: "/resource-servers",
			body: `{"scopes":[{"value":"a b"},{"value":"x"},{"value":"x"},{"description":1}],"signing_alg":"HS256","signing_secret":"s","token_lifetime":0,"token_dialect":"jwt","is_system":true}`},
		{name: "create resource server: system", method: "POST", path: "/resource-servers", body: `{"identifier":"urn:sys","is_system":true}`},
		{name: "create resource server: web lifetime", method: "POST", path: "/resource-servers", body: `{"identifier":"urn:web","token_lifetime":60,"token_lifetime_for_web":120}`},
		{name: "get resource server", path: "/resource-servers/{rs}"},
		{name: "get resource server by identifier", path: "/resource-servers/https:%2F%2Fapi.golden.test%2F?fields=id,identifier"},
		{name: "get system API", path: "/resource-servers/{issuer_escaped}api%2Fv2%2F?fields=name,is_system,identifier"},
		{name: "get resource server: unknown", path: "/resource-servers/nobody"},
		{name: "list resource servers", path: "/resource-servers?fields=identifier,is_system&sort=-is_system,identifier"},
		{name: "list resource servers: filter", path: "/resource-servers?is_system=false&fields=identifier"},
		{name: "list resource servers: bad filter", path: "/resource-servers?enforce_policies=2"},
		{name: "patch resource server", method: "PATCH", path: "/resource-servers/{rs}", body: `{"name":"Golden API","enforce_policies":true,"token_dialect":"access_token_authz"}`},
		{name: "patch resource server: immutable identifier", method: "PATCH", path: "/resource-servers/{rs}", body: `{"identifier":"urn:other"}`},
		{name: "patch resource server: stale If-Match", method: "PATCH", path: "/resource-servers/{rs}", body: `{"name":"x"}`, headers: map[string]string{"If-Match": `"3"`}},
		{name: "patch system API: scopes", method: "PATCH", path: "/resource-servers/{issuer_escaped}api%2Fv1%2F", body: `{"scopes":[],"name":"Mine"}`},
		{name: "delete system API", method: "DELETE", path: "/resource-servers/{issuer_escaped}api%2Fv1%2F"},

		// Client grants.
		{name: "create grant", method: "POST", path: "/client-grants", body: `{"client_id":"{m2m}","audience":"https://api.golden.test/","scope":["read:things"]}`,
			capture: map[string]string{"grant": "id"}},
		{name: "create grant: duplicate", method: "POST", path: "/client-grants", body: `{"client_id":"{m2m}","audience":"https://api.golden.test/","scope":[]}`},
		{name: "create grant: undefined scope", method: "POST", path: "/client-grants", body: `{"client_id":"{client}","audience":"https://api.golden.test/","scope":["delete:things","read:things"]}`},
		{name: "create grant: missing", method: "POST", path: "/client-grants", body: `{"scope":["a","a"]}`},
		{name: "create grant: unknown client", method: "POST", path: "/client-grants", body: `{"client_id":"nobody","audience":"https://api.golden.test/","scope":[]}`},
		{name: "create grant: unknown audience", method: "POST", path: "/client-grants", body: `{"client_id":"{m2m}","audience":"urn:nobody","scope":[]}`},
		{name: "get grant", path: "/client-grants/{grant}"},
		{name: "get grant: unknown", path: "/client-grants/nobody"},
		{name: "list grants", path: "/client-grants?audience=https://api.golden.test/&fields=client_id,audience,scope"},
		{name: "patch grant", method: "PATCH", path: "/client-grants/{grant}", body: `{"scope":["read:things","write:things"]}`},
		{name: "patch grant: immutable audience", method: "PATCH", path: "/client-grants/{grant}", body: `{"audience":"urn:other"}`},
		{name: "patch grant: stale If-Match", method: "PATCH", path: "/client-grants/{grant}", body: `{"scope":[]}`, headers: map[string]string{"If-Match": `"4"`}},
		{name: "patch resource server: scopes removed from grants", method: "PATCH", path: "/resource-servers/{rs}", body: `{"scopes":[{"value":"read:things"}]}`},
		{name: "get grant after scope removal", path: "/client-grants/{grant}"},
		{name: "delete grant", method: "DELETE", path: "/client-grants/{grant}"},
		{name: "delete grant: unknown", method: "DELETE", path: "/client-grants/{grant}"},

		// Signing keys.
		{name: "list signing keys", path: "/keys/signing"},
		{name: "get signing key: unknown", path: "/keys/signing/nobody"},
		{name: "revoke signing key: unknown", method: "PUT", path: "/keys/signing/nobody/revoke"},

		// Tenant settings.
		{name: "get tenant settings", path: "/tenants/settings"},
		{name: "get tenant settings: projection", path: "/tenants/settings?fields=friendly_name,picture_url&include_fields=true"},
		{name: "patch tenant settings", method: "PATCH", path: "/tenants/settings", body: `{"friendly_name":"Golden","support_email":"help@golden.test","actions_timeout_ms":2000}`},
		{name: "patch tenant settings: bad", method: "PATCH", path: "/tenants/settings", body: `{"support_email":"not mail","actions_timeout_ms":0,"name":"other","picture_url":"ftp://x"}`},
		{name: "patch tenant settings: stale If-Match", method: "PATCH", path: "/tenants/settings", body: `{"friendly_name":"x"}`, headers: map[string]string{"If-Match": `"5"`}},

		// Actions.
		{name: "create action", method: "POST", path: "/actions/actions",
			body:    `{"name":"golden-js","supported_triggers":[{"id":"credentials-exchange","version":"v2"}],"code":` + jsonString(jsCode) + `,"runtime":"node18","secrets":[{"name":"TIER","value":"gold"}]}`,
			capture: map[string]string{"action": "id"}},
		{name: "create wasm action", method: "POST", path: "/actions",
			body:    `{"name":"golden-wasm","runtime":"wasm","supported_triggers":["m2m"],"module":"` + module + `"}`,
			capture: map[string]string{"wasm": "id"}},
		{name: "create action: bad", method: "POST", path: "/actions/actions",
			body: `{"supported_triggers":[{"id":"nope"}],"runtime":"cobol","dependencies":[{"name":"lodash","version":"4"}],"secrets":[{"value":"x"}]}`},
		{name: "create action: bad module", method: "POST", path: "/actions/actions", body: `{"name":"golden-bad","runtime":"wasm","supported_triggers":["m2m"],"module":"AGFzbQ=="}`},
		{name: "create action: bad base64", method: "POST", path: "/actions/actions", body: `{"name":"golden-b64","runtime":"wasm","supported_triggers":["m2m"],"module":"!!"}`},
		{name: "get action", path: "/actions/actions/{action}"},
		{name: "get action: alias path", path: "/actions/{action}?fields=id,name,status"},
		{name: "get action: unknown", path: "/actions/actions/nobody"},
		{name: "list actions", path: "/actions/actions?fields=name,runtime&sort=name"},
		{name: "list actions: bad sort", path: "/actions/actions?sort=code"},
		{name: "patch action", method: "PATCH", path: "/actions/actions/{action}", body: `{"secrets":[{"name":"TIER"},{"name":"REGION","value":"eu"}]}`},
		{name: "patch action: stale If-Match", method: "PATCH", path: "/actions/actions/{action}", body: `{"name":"x"}`, headers: map[string]string{"If-Match": `"6"`}},
		{name: "patch action: secret without value", method: "PATCH", path: "/actions/actions/{action}", body: `{"secrets":[{"name":"NEW"}]}`},
		{name: "bind undeployed action", method: "PATCH", path: "/actions/triggers/credentials-exchange/bindings", body: `{"bindings":[{"ref":{"type":"action_id","value":"{action}"},"display_name":"x"}]}`},
		{name: "deploy action", method: "POST", path: "/actions/actions/{action}/deploy", capture: map[string]string{"version": "id"}},
		{name: "list versions", path: "/actions/actions/{action}/versions"},
		{name: "get version", path: "/actions/actions/{action}/versions/{version}"},
		{name: "get version: unknown", path: "/actions/actions/{action}/versions/nobody"},
		{name: "roll back", method: "POST", path: "/actions/actions/{action}/versions/{version}/deploy", body: `{"update_draft":true}`},
		{name: "bind action", method: "PATCH", path: "/actions/triggers/credentials-exchange/bindings", body: `{"bindings":[{"ref":{"type":"action_name","value":"golden-js"},"display_name":"tier"}]}`},
		{name: "bind: bad", method: "PATCH", path: "/actions/triggers/credentials-exchange/bindings", body: `{"bindings":[{"ref":{"type":"action_uuid","value":""}}],"extra":1}`},
		{name: "bind: unknown trigger", method: "PATCH", path: "/actions/triggers/nope/bindings", body: `{"bindings":[]}`},
		{name: "get bindings", path: "/actions/triggers/m2m/bindings"},
		{name: "list triggers", path: "/actions/triggers"},
		{name: "get trigger", path: "/triggers/post-login"},
		{name: "get trigger: unknown", path: "/actions/triggers/nope"},
		{name: "actions status", path: "/actions/status"},
		{name: "get execution: unknown", path: "/actions/executions/nobody"},
		{name: "test action", method: "POST", path: "/actions/{wasm}/test", body: `{"payload":{"client":{"client_id":"c"},"resource_server":{"identifier":"urn:x"}}}`},
		{name: "test action: bad body", method: "POST", path: "/actions/actions/{wasm}/test", body: `{"payload":1}`},
		{name: "delete bound action", method: "DELETE", path: "/actions/actions/{action}"},
		{name: "delete bound action: force", method: "DELETE", path: "/actions/{action}?force=true"},
		{name: "delete action: unknown", method: "DELETE", path: "/actions/actions/{action}"},

		// Deletes last.
		{name: "delete resource server", method: "DELETE", path: "/resource-servers/{rs}"},
		{name: "delete client", method: "DELETE", path: "/clients/{client}"},
		{name: "delete client: again", method: "DELETE", path: "/clients/{client}"},
		{name: "api/v2 alias", path: "/api/v2/clients/{m2m}?fields=name"},
	}
	vals := map[string]string{
		"mgmt":           e.mgmtClient,
		"issuer":         e.issuer,
		"issuer_escaped": strings.ReplaceAll(strings.ReplaceAll(e.issuer, "/", "%2F"), ":", "%3A"),
	}
	fill := func(s string) string {
		for k, v := range vals {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	mc, err := e.repo.GetClient(t.Context(), e.tenant, e.mgmtClient)
	if err != nil {
		t.Fatal(err)
	}
	scrub := func(s string) string {
		return scrubGolden(strings.ReplaceAll(s, string(mc.ClientSecret), "{mgmt_secret}"), e)
	}
	var out bytes.Buffer
	for _, tc := range cases {
		r := req{method: tc.method, path: fill(tc.path), ctype: tc.ctype, headers: tc.headers, host: tc.host, client: rawClient}
		if tc.body != "" {
			r.body = fill(tc.body)
		}
		switch tc.token {
		case "", "-":
			r.token = tc.token
		case "bad":
			r.token = "not.a.token"
		default:
			r.token = e.token(t, strings.Fields(tc.token)...)
		}
		resp := e.do(t, r)
		for name, member := range tc.capture {
			var m map[string]any
			if err := json.Unmarshal(resp.body, &m); err != nil {
				t.Fatalf("%s: capture %s: %v (%s)", tc.name, member, err, resp.body)
			}
			s, _ := m[member].(string)
			if s == "" {
				t.Fatalf("%s: no %s in %s", tc.name, member, resp.body)
			}
			vals[name] = s
		}
		fmt.Fprintf(&out, "=== %s\n%s %s\n%d\n", tc.name, cmpOr(tc.method, "GET"), tc.path, resp.status)
		for _, h := range goldenHeaders {
			if v := resp.header.Values(h); len(v) > 0 {
				fmt.Fprintf(&out, "%s: %s\n", h, scrub(strings.Join(v, ", ")))
			}
		}
		body := resp.body
		if tc.hash {
			sum := sha256.Sum256(body)
			body = []byte("sha256:" + hex.EncodeToString(sum[:]))
		}
		fmt.Fprintf(&out, "%s\n\n", scrub(string(body)))
	}
	const path = "testdata/wire.golden"
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := out.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("answers differ from %s at line %d:\n got: %s\nwant: %s", path, i+1, g, w)
			}
		}
	}
}

var (
	// goldenKeyMember are members holding key material or values made
	// from it, which differ on every run.
	goldenKeyMember = regexp.MustCompile(`"(kid|cert|pkcs7|subject|fingerprint|thumbprint|n|e|x|y|crv|x5c|x5t|x5t#S256)":("[^"]*"|\[[^\]]*\])`)
	goldenTime      = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
)

// scrubGolden replaces what a fresh env makes differently on each run.
func scrubGolden(s string, e *env) string {
	s = strings.ReplaceAll(s, e.issuer, "{issuer}")
	s = strings.ReplaceAll(s, e.host, "{host}")
	s = strings.ReplaceAll(s, e.mgmtClient, "{mgmt}")
	s = goldenKeyMember.ReplaceAllString(s, `"$1":"{key}"`)
	fixed := goldenNow.Format(time.RFC3339Nano)
	return goldenTime.ReplaceAllStringFunc(s, func(ts string) string {
		if ts == fixed || ts == goldenNow.Format("2006-01-02T15:04:05.000Z") {
			return ts
		}
		return "{time}"
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
