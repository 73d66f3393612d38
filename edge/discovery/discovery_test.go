package discovery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/edge/discovery"
	"github.com/authok-edge/authok/shared/bootstrap"
	"github.com/authok-edge/authok/shared/directory"
	"github.com/authok-edge/authok/shared/keys"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
)

type fixture struct {
	base string
	st   store.Store
	repo *repo.Repo
	dir  *directory.Directory
	km   *keys.Manager
	h    *discovery.Handler
}

func setup(t *testing.T) fixture {
	t.Helper()
	st := storetest.Local(t)
	box, _ := secretbox.GenerateKey(nil)
	r, err := repo.New(st, box)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	km := keys.New(st, box)
	t.Cleanup(func() { km.Close() })
	if _, err := bootstrap.Ensure(context.Background(), st, box, bootstrap.Options{Issuer: base + "/", Keys: km}); err != nil {
		t.Fatal(err)
	}
	dir, err := directory.New(directory.Config{Store: st, Repo: r, Signers: km, DefaultTenant: "-"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dir.Close)
	h, err := discovery.New(discovery.Config{Tenants: dir, Keys: km, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		switch string(ctx.Path()) {
		case "/.well-known/jwks.json":
			h.ServeJWKS(ctx)
		case "/.well-known/openid-configuration":
			h.ServeConfiguration(ctx)
		default:
			ctx.SetStatusCode(404)
		}
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return fixture{base: base, st: st, repo: r, dir: dir, km: km, h: h}
}

func get(t *testing.T, url string) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func kidsOf(t *testing.T, body []byte) map[string]bool {
	t.Helper()
	set, err := jwk.Parse(body)
	if err != nil {
		t.Fatalf("JWKS does not parse: %v\n%s", err, body)
	}
	out := map[string]bool{}
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		out[k.KeyID()] = true
	}
	return out
}

func TestJWKSPublishesCurrentAndNextAndFollowsRotation(t *testing.T) {
	f := setup(t)
	status, body, hdr := get(t, f.base+"/.well-known/jwks.json")
	if status != 200 || hdr.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("status %d, content type %q", status, hdr.Get("Content-Type"))
	}
	published, _ := f.km.Published("default")
	if got := kidsOf(t, body); len(got) != len(published) || len(got) != 8 {
		t.Fatalf("JWKS has %d keys, want the 8 published (current + next, 4 algorithms)", len(got))
	}
	before := kidsOf(t, body)

	// Rotation: the store's apply feed drops the rendered bytes, so the very
	// next request shows the new next generation.
	next, err := f.km.Rotate(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ = get(t, f.base+"/.well-known/jwks.json")
	after := kidsOf(t, body)
	for _, k := range next {
		if !after[k.KID] {
			t.Fatalf("new next key %s missing after rotation", k.KID)
		}
	}
	for kid := range before {
		if !after[kid] {
			t.Fatalf("key %s (now current or previous) vanished after one rotation", kid)
		}
	}

	// Revoking the previous generation removes it at once.
	var victim string
	for _, k := range mustPublished(t, f.km) {
		if k.Previous {
			victim = k.KID
			break
		}
	}
	if _, err := f.km.Revoke(context.Background(), "default", victim); err != nil {
		t.Fatal(err)
	}
	_, body, _ = get(t, f.base+"/.well-known/jwks.json")
	if kidsOf(t, body)[victim] {
		t.Fatal("revoked key still published")
	}
}

func mustPublished(t *testing.T, km *keys.Manager) []keys.Key {
	ks, err := km.Published("default")
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestConfigurationListsWhatIsImplemented(t *testing.T) {
	f := setup(t)
	status, body, _ := get(t, f.base+"/.well-known/openid-configuration")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var md map[string]any
	if err := json.Unmarshal(body, &md); err != nil {
		t.Fatal(err)
	}
	issuer := f.base + "/"
	if md["issuer"] != issuer || md["token_endpoint"] != issuer+"oauth/token" || md["jwks_uri"] != issuer+".well-known/jwks.json" {
		t.Fatalf("metadata %v", md)
	}
	for _, absent := range []string{"authorization_endpoint", "userinfo_endpoint", "revocation_endpoint", "device_authorization_endpoint", "end_session_endpoint"} {
		if _, ok := md[absent]; ok {
			t.Errorf("%s advertised but not implemented", absent)
		}
	}
	if gts := md["grant_types_supported"].([]any); len(gts) != 1 || gts[0] != "client_credentials" {
		t.Fatalf("grant_types_supported %v", gts)
	}
	if rts := md["response_types_supported"].([]any); len(rts) != 1 || rts[0] != "none" {
		t.Errorf("response_types_supported %v, want [none] (nothing is issued from an authorization endpoint)", rts)
	}
	for _, p := range metadataProblems(md, issuer) {
		t.Error(p)
	}
}

// TestMetadataProblemsCatches keeps the validity check honest: each
// document below breaks one rule it must report.
func TestMetadataProblemsCatches(t *testing.T) {
	const issuer = "https://t.example/"
	valid := func() map[string]any {
		var md map[string]any
		b, _ := json.Marshal(discovery.Metadata(issuer))
		_ = json.Unmarshal(b, &md)
		return md
	}
	if p := metadataProblems(valid(), issuer); len(p) > 0 {
		t.Fatalf("valid metadata reported: %v", p)
	}
	tests := []struct {
		name   string
		change func(map[string]any)
	}{
		{"empty response types", func(m map[string]any) { m["response_types_supported"] = []any{} }},
		{"no response types", func(m map[string]any) { delete(m, "response_types_supported") }},
		{"no subject types", func(m map[string]any) { delete(m, "subject_types_supported") }},
		{"no RS256 for ID tokens", func(m map[string]any) { m["id_token_signing_alg_values_supported"] = []any{"ES256"} }},
		{"no jwks_uri", func(m map[string]any) { delete(m, "jwks_uri") }},
		{"other issuer", func(m map[string]any) { m["issuer"] = "https://other.example/" }},
		{"code without authorization_code", func(m map[string]any) { m["response_types_supported"] = []any{"code"} }},
		{"token without implicit", func(m map[string]any) { m["response_types_supported"] = []any{"token"} }},
		{"authorization_code without endpoint", func(m map[string]any) {
			m["grant_types_supported"] = []any{"client_credentials", "authorization_code"}
			m["response_types_supported"] = []any{"code"}
		}},
		{"endpoint off the issuer", func(m map[string]any) { m["token_endpoint"] = "https://evil.example/oauth/token" }},
		{"empty list", func(m map[string]any) { m["code_challenge_methods_supported"] = []any{} }},
		{"grant types omitted", func(m map[string]any) { delete(m, "grant_types_supported") }},
		{"none as signing alg", func(m map[string]any) { m["token_endpoint_auth_signing_alg_values_supported"] = []any{"none"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := valid()
			tt.change(md)
			if p := metadataProblems(md, issuer); len(p) == 0 {
				t.Errorf("not reported: %v", md)
			}
		})
	}
}

// metadataProblems checks a provider metadata document against the rules
// of OpenID Connect Discovery 1.0 §3 and RFC 8414 §2 that a server
// without an authorization endpoint can meet (authorization_endpoint is
// required by RFC 8414 only when a grant type uses it). Every later
// change to Metadata must keep it empty.
func metadataProblems(md map[string]any, issuer string) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	// strs reads a string array; the loop below reports malformed ones.
	strs := func(name string) ([]string, bool) {
		raw, ok := md[name]
		list, _ := raw.([]any)
		var s []string
		for _, v := range list {
			str, _ := v.(string)
			s = append(s, str)
		}
		return s, ok
	}
	if md["issuer"] != issuer {
		bad("issuer = %v, want %s", md["issuer"], issuer)
	}
	for name, v := range md {
		if _, isBool := v.(bool); strings.HasSuffix(name, "_supported") && !isBool {
			list, isList := v.([]any)
			if !isList || len(list) == 0 {
				bad("%s = %v: must be a non-empty array when present", name, v)
			}
			for _, e := range list {
				if s, isStr := e.(string); !isStr || s == "" {
					bad("%s holds %v: not a non-empty string", name, e)
				}
			}
		}
		if strings.HasSuffix(name, "_endpoint") || name == "jwks_uri" {
			if s, _ := v.(string); !strings.HasPrefix(s, issuer) {
				bad("%s = %v: not a URL under the issuer", name, v)
			}
		}
	}
	if _, ok := md["jwks_uri"]; !ok {
		bad("jwks_uri missing (required)")
	}
	if _, ok := md["token_endpoint"]; !ok {
		bad("token_endpoint missing (required unless only the implicit grant is served)")
	}
	for _, name := range []string{"response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"} {
		if _, ok := md[name]; !ok {
			bad("%s missing (required)", name)
		}
	}
	if algs, _ := strs("id_token_signing_alg_values_supported"); algs != nil && !slices.Contains(algs, "RS256") {
		bad("id_token_signing_alg_values_supported %v lacks RS256 (OIDC Discovery: it must be included)", algs)
	}
	if algs, _ := strs("token_endpoint_auth_signing_alg_values_supported"); slices.Contains(algs, "none") {
		bad("token_endpoint_auth_signing_alg_values_supported holds none (RFC 8414 forbids it)")
	}
	// grant_types_supported defaults to authorization_code and implicit
	// when omitted, so a server without them must list its grants.
	grants, ok := strs("grant_types_supported")
	if !ok {
		bad("grant_types_supported missing: the default [authorization_code implicit] is not served")
	}
	// Response types need the grant types RFC 7591 §2.1 pairs them with.
	rts, _ := strs("response_types_supported")
	for _, rt := range rts {
		for part := range strings.FieldsSeq(rt) {
			need := map[string]string{"code": "authorization_code", "token": "implicit", "id_token": "implicit"}[part]
			if part != "none" && need == "" {
				bad("response type %q: unknown part %q", rt, part)
			}
			if need != "" && !slices.Contains(grants, need) {
				bad("response type %q needs grant type %s, which is not supported", rt, need)
			}
		}
	}
	usesAuthorize := slices.Contains(grants, "authorization_code") || slices.Contains(grants, "implicit")
	if _, has := md["authorization_endpoint"]; has != usesAuthorize {
		bad("authorization_endpoint present = %v, but grant types %v use it = %v", has, grants, usesAuthorize)
	}
	return out
}

func TestUnknownHost(t *testing.T) {
	f := setup(t)
	req, _ := http.NewRequest("GET", f.base+"/.well-known/jwks.json", nil)
	req.Host = "nobody.example.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown host: %d", resp.StatusCode)
	}
}

func TestJWKSHandlerDoesNotAllocateWhenWarm(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	f := setup(t)
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/.well-known/jwks.json")
	ctx.Request.Header.SetHost(f.base[len("http://"):])
	f.h.ServeJWKS(&ctx) // render once
	allocs := testing.AllocsPerRun(200, func() {
		ctx.Response.Reset()
		f.h.ServeJWKS(&ctx)
	})
	// A warm request resolves the tenant from the cache and writes the
	// pre-rendered bytes: the only allocations left are the tenant copy the
	// directory hands out.
	if allocs > 1 {
		t.Fatalf("%.0f allocations per warm request", allocs)
	}
}

// racingTenants resolves through the directory, then runs during (once)
// before returning: a write applied there lands after the tenant was read
// and before the Handler renders with it, as the reviewer's probe did.
type racingTenants struct {
	discovery.Tenants
	during func()
}

func (r *racingTenants) TenantByHostBytes(host []byte) (model.Tenant, error) {
	t, err := r.Tenants.TenantByHostBytes(host)
	if during := r.during; during != nil {
		r.during = nil
		during()
	}
	return t, err
}

// issuerOf serves the configuration to a request for host and returns
// the issuer it names.
func issuerOf(t *testing.T, h *discovery.Handler, host string) string {
	t.Helper()
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/.well-known/openid-configuration")
	ctx.Request.Header.SetHost(host)
	h.ServeConfiguration(&ctx)
	var md discovery.ProviderMetadata
	if err := json.Unmarshal(ctx.Response.Body(), &md); err != nil {
		t.Fatalf("status %d: %v", ctx.Response.StatusCode(), err)
	}
	return md.Issuer
}

// OpenID Connect Discovery §4.3: the metadata's issuer must equal the
// tokens'. A tenant write applied between the tenant lookup and the render
// must not leave the old issuer cached.
func TestIssuerChangeDuringLookupIsNotCached(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(*discovery.Handler, *fasthttp.RequestCtx) // the racing request
	}{
		{"configuration races the write", (*discovery.Handler).ServeConfiguration},
		{"JWKS races the write", (*discovery.Handler).ServeJWKS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			host := f.base[len("http://"):]
			newIssuer := f.base + "/v2/"
			tenants := &racingTenants{Tenants: f.dir, during: func() {
				if _, err := f.repo.UpdateTenant(context.Background(), "default", func(tn model.Tenant) (model.Tenant, error) {
					tn.Internal.Issuer = newIssuer
					return tn, nil
				}); err != nil {
					t.Fatal(err)
				}
			}}
			// Subscribed after the directory, as in cmd/authok.
			h, err := discovery.New(discovery.Config{Tenants: tenants, Keys: f.km, Store: f.st})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(h.Close)

			var ctx fasthttp.RequestCtx
			ctx.Request.Header.SetHost(host)
			tc.serve(h, &ctx)
			if tenants.during != nil {
				t.Fatal("the write did not run during the lookup")
			}
			// The racing request may answer with either issuer; every later
			// one must name the new issuer.
			for i := range 2 {
				if got := issuerOf(t, h, host); got != newIssuer {
					t.Fatalf("request %d after the write: issuer %q, want %q", i+1, got, newIssuer)
				}
			}
		})
	}
}
