package bootstrap

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/keys"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
	"github.com/authok-edge/authok/shared/tokens"
)

var ctx = context.Background()

func setup(t *testing.T) (*store.Local, secretbox.Key) {
	t.Helper()
	st := storetest.Local(t)
	box, err := secretbox.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return st, box
}

// counter is a deterministic io.Reader that never repeats itself: SHA-256
// of its seed and a block counter (a byte counter would cycle every 256
// bytes and repeat kids).
type counter struct {
	n     byte
	block uint64
	buf   []byte
}

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		if len(c.buf) == 0 {
			sum := sha256.Sum256(binary.BigEndian.AppendUint64([]byte{c.n}, c.block))
			c.buf = sum[:]
			c.block++
		}
		p[i], c.buf = c.buf[0], c.buf[1:]
	}
	return len(p), nil
}

func fixedNow() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }

func TestNormalizeIssuer(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "http://127.0.0.1:8080/", want: "http://127.0.0.1:8080/"},
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080/"},
		{in: "HTTPS://Default.US.Authok.CN", want: "https://default.us.authok.cn/"},
		{in: "https://example.com:443/", want: "https://example.com/"},
		{in: "http://example.com:80", want: "http://example.com/"},
		{in: "https://example.com:8443/tenant", want: "https://example.com:8443/tenant/"},
		{in: "http://[::1]:8080", want: "http://[::1]:8080/"},
		{in: "", wantErr: "required"},
		{in: "   ", wantErr: "required"},
		{in: "127.0.0.1:8080", wantErr: "http"},
		{in: "/relative/", wantErr: "http"},
		{in: "ftp://example.com/", wantErr: "http"},
		{in: "http://", wantErr: "no host"},
		{in: "http:///path", wantErr: "no host"},
		{in: "http://user:pw@example.com/", wantErr: "user info"},
		{in: "https://example.com/?q=1", wantErr: "query"},
		{in: "https://example.com/?", wantErr: "query"},
		{in: "https://example.com/#frag", wantErr: "fragment"},
		{in: "https://example.com/#", wantErr: "fragment"},
		{in: "http://exa mple.com/", wantErr: "issuer"},
		{in: "mailto:x@example.com", wantErr: "http"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeIssuer(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "bootstrap: ") {
					t.Fatalf("NormalizeIssuer(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeIssuer(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEnsureRejectsBadOptions(t *testing.T) {
	st, box := setup(t)
	tests := []struct {
		name string
		opts Options
	}{
		{name: "no issuer", opts: Options{}},
		{name: "relative issuer", opts: Options{Issuer: "localhost:8080"}},
		{name: "bad tenant name", opts: Options{Issuer: "http://127.0.0.1:8080/", TenantName: "Not_A_Label"}},
		{name: "short secret", opts: Options{Issuer: "http://127.0.0.1:8080/", ClientSecret: "short"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Ensure(ctx, st, box, tt.opts); err == nil {
				t.Fatal("Ensure succeeded")
			}
		})
	}
	if _, err := Ensure(ctx, st, secretbox.Key{}, Options{Issuer: "http://127.0.0.1:8080/"}); err == nil {
		t.Error("zero master key accepted")
	}
	if keys, _, _ := st.Scan(nil, nil, 10); len(keys) != 0 {
		t.Fatalf("failed Ensure wrote %d keys", len(keys))
	}
}

func TestEnsureCreates(t *testing.T) {
	st, box := setup(t)
	res, err := Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:8080", Now: fixedNow, Rand: &counter{}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Tenant != "default" || res.Issuer != "http://127.0.0.1:8080/" ||
		res.Audience != "http://127.0.0.1:8080/api/v1/" || res.TokenURL() != "http://127.0.0.1:8080/oauth/token" {
		t.Fatalf("result %+v", res)
	}
	if len(res.ClientID) != 32 || len(res.ClientSecret) != 64 || len(res.Ignored) != 0 {
		t.Fatalf("credentials: id %q, secret length %d, ignored %v", res.ClientID, len(res.ClientSecret), res.Ignored)
	}
	if s := fmt.Sprintf("%+v", res); strings.Contains(s, res.ClientSecret.Reveal()) {
		t.Fatal("Result prints its secret")
	}

	r, _ := repo.New(st, box)
	tn, err := r.GetTenant(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if tn.Internal.Issuer != res.Issuer || tn.DefaultAudience != "" || tn.Internal.ManagementClientID != res.ClientID {
		t.Fatalf("tenant %+v", tn)
	}
	if byHost, err := r.GetTenantByHost(ctx, "127.0.0.1:8080"); err != nil || byHost.Name != "default" {
		t.Fatalf("tenant by host: %v", err)
	}

	api, err := r.GetResourceServerByIdentifier(ctx, "default", res.Audience)
	if err != nil {
		t.Fatal(err)
	}
	if api.Name != "Authok Management API" || !api.IsSystem || !api.AllowOfflineAccess || api.TokenLifetime != 86400 || api.TokenLifetimeForWeb != 7200 {
		t.Fatalf("management API %+v", api)
	}
	var values []string
	for _, s := range api.Scopes {
		values = append(values, s.Value)
		if s.Description == "" {
			t.Errorf("scope %s has no description", s.Value)
		}
	}
	if !slices.Equal(values, model.ManagementScopes()) {
		t.Fatalf("API scopes differ from the catalogue")
	}

	c, err := r.GetClient(ctx, "default", res.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientSecret != res.ClientSecret || c.AppType != model.AppTypeNonInteractive ||
		c.TokenEndpointAuthMethod != model.AuthMethodClientSecretPost || !slices.Equal(c.GrantTypes, []string{"client_credentials"}) ||
		c.Tenant != "default" || len(c.Name) > 32 {
		t.Fatalf("client %+v", c)
	}

	g, err := r.GetClientGrantByPair(ctx, "default", res.ClientID, res.Audience)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.ID, "cg_") || !slices.Equal(g.Scope, model.ManagementScopes()) {
		t.Fatalf("grant %s with %d scopes", g.ID, len(g.Scope))
	}

	// One transaction: every record carries the same version.
	if !(tn.Version == api.Version && api.Version == c.Version && c.Version == g.Version) {
		t.Fatalf("versions differ: tenant %d api %d client %d grant %d", tn.Version, api.Version, c.Version, g.Version)
	}
	checkKeys(t, st, box, "default")

	// The secret is sealed at rest.
	items, _, _ := st.Scan(nil, nil, 100)
	for _, it := range items {
		if bytes.Contains(it.Value, []byte(res.ClientSecret.Reveal())) {
			t.Fatalf("plaintext secret stored under %q", it.Key)
		}
	}
}

// checkKeys asserts that tenant has one current and one next generation of
// signing keys, whose certificates name the tenant.
func checkKeys(t *testing.T, st store.Store, box secretbox.Key, tenant string) {
	t.Helper()
	km := keys.New(st, box)
	defer km.Close()
	all, err := km.List(tenant)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]int{}
	for _, k := range all {
		status[k.Status()]++
		if !strings.Contains(k.Cert, "BEGIN CERTIFICATE") {
			t.Fatalf("key %s has no certificate", k.KID)
		}
	}
	if len(all) != 2*len(tokens.Algs) || status["current"] != len(tokens.Algs) || status["next"] != len(tokens.Algs) {
		t.Fatalf("signing keys of %s: %d, statuses %v", tenant, len(all), status)
	}
	if _, err := km.Signer(tenant, tokens.RS256); err != nil {
		t.Fatalf("no RS256 signer: %v", err)
	}
}

func TestEnsureAddsKeysToExistingTenant(t *testing.T) {
	// A tenant bootstrapped before signing keys existed gets them.
	st, box := setup(t)
	if _, err := ensureTenant(ctx, st, box, Options{Issuer: "http://127.0.0.1:8080/"}); err != nil {
		t.Fatal(err)
	}
	km := keys.New(st, box)
	defer km.Close()
	if all, _ := km.List("default"); len(all) != 0 {
		t.Fatalf("%d keys before Ensure", len(all))
	}
	res, err := Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:8080/", Keys: km})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created {
		t.Fatal("Created reported for an existing tenant")
	}
	checkKeys(t, st, box, "default")
}

func TestEnsureIsIdempotent(t *testing.T) {
	st, box := setup(t)
	first, err := Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	applied := st.AppliedIndex()
	tests := []struct {
		name        string
		opts        Options
		wantIgnored []string
	}{
		{name: "same options", opts: Options{Issuer: "http://127.0.0.1:8080/"}},
		{name: "equivalent issuer", opts: Options{Issuer: "HTTP://127.0.0.1:8080"}},
		{name: "other issuer", opts: Options{Issuer: "http://127.0.0.1:9090/"}, wantIgnored: []string{"issuer"}},
		{name: "other credentials", opts: Options{Issuer: "http://127.0.0.1:8080/", ClientID: "env-client", ClientSecret: "env-secret-0123456789"}, wantIgnored: []string{"client_id", "client_secret"}},
		{name: "same credentials", opts: Options{Issuer: "http://127.0.0.1:8080/", ClientID: first.ClientID, ClientSecret: first.ClientSecret.Reveal()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Ensure(ctx, st, box, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Created || res.ClientID != first.ClientID || res.ClientSecret != first.ClientSecret || res.Issuer != first.Issuer || res.Audience != first.Audience {
				t.Fatalf("second Ensure = %+v, first %+v", res, first)
			}
			if !slices.Equal(res.Ignored, tt.wantIgnored) {
				t.Fatalf("Ignored = %v, want %v", res.Ignored, tt.wantIgnored)
			}
		})
	}
	if st.AppliedIndex() != applied {
		t.Fatal("a repeated Ensure wrote to the store")
	}
}

func TestEnsureUsesSuppliedCredentials(t *testing.T) {
	st, box := setup(t)
	res, err := Ensure(ctx, st, box, Options{
		Issuer: "https://default.us.authok.cn/", TenantName: "default",
		ClientID: "ci-client", ClientSecret: "ci-secret-0123456789",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.ClientID != "ci-client" || res.ClientSecret != "ci-secret-0123456789" {
		t.Fatalf("result %+v", res)
	}
	r, _ := repo.New(st, box)
	if c, err := r.GetClient(ctx, "default", "ci-client"); err != nil || c.ClientSecret != "ci-secret-0123456789" {
		t.Fatalf("client: %v", err)
	}
}

func TestEnsureDeterministic(t *testing.T) {
	run := func() Result {
		st, box := setup(t)
		res, err := Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:8080/", Rand: &counter{n: 7}, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(), run()
	if a.ClientID != b.ClientID || a.ClientSecret != b.ClientSecret {
		t.Fatal("same injected randomness gave different credentials")
	}
}

func TestEnsureConcurrent(t *testing.T) {
	for round := range 5 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			st, box := setup(t)
			const n = 4
			results := make([]Result, n)
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					results[i], errs[i] = Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:8080/"})
				})
			}
			close(start)
			wg.Wait()
			created := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("Ensure %d: %v", i, errs[i])
				}
				if results[i].Created {
					created++
				}
				if results[i].ClientID != results[0].ClientID || results[i].ClientSecret != results[0].ClientSecret {
					t.Fatalf("Ensure %d reports other credentials", i)
				}
			}
			if created != 1 {
				t.Fatalf("%d callers report Created", created)
			}
			r, _ := repo.New(st, box)
			tenants, _, _ := r.ListTenants(ctx, "", 0)
			clients, _, _ := r.ListClients(ctx, "default", "", 0)
			apis, _, _ := r.ListResourceServers(ctx, "default", "", 0)
			grants, _, _ := r.ListClientGrants(ctx, "default", "", 0)
			if len(tenants) != 1 || len(clients) != 1 || len(apis) != 1 || len(grants) != 1 {
				t.Fatalf("tenants %d clients %d apis %d grants %d", len(tenants), len(clients), len(apis), len(grants))
			}
			checkKeys(t, st, box, "default")
		})
	}
}

func TestEnsureHostTakenByAnotherTenant(t *testing.T) {
	st, box := setup(t)
	if _, err := Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:8080/", TenantName: "first"}); err != nil {
		t.Fatal(err)
	}
	_, err := Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:8080/", TenantName: "second"})
	if !errors.Is(err, repo.ErrDuplicate) || !strings.Contains(err.Error(), "host") {
		t.Fatalf("err = %v, want a duplicate host", err)
	}
}

func TestWriteCredentialsFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	res := Result{Tenant: "default", Issuer: "http://127.0.0.1:8080/", Audience: "http://127.0.0.1:8080/api/v1/", ClientID: "cid", ClientSecret: "the-secret-value"}
	if err := WriteCredentialsFile(dir, res); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, CredentialsFile)
	check := func() {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %o, want 600", fi.Mode().Perm())
		}
		b, _ := os.ReadFile(path)
		var got map[string]string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"client_id": "cid", "client_secret": "the-secret-value", "audience": "http://127.0.0.1:8080/api/v1/",
			"token_url": "http://127.0.0.1:8080/oauth/token", "issuer": "http://127.0.0.1:8080/",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("file %v, want %v", got, want)
		}
	}
	check()
	// Rewriting over a file with a looser mode leaves it 0600.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteCredentialsFile(dir, res); err != nil {
		t.Fatal(err)
	}
	check()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	if err := WriteCredentialsFile(dir, Result{}); err == nil {
		t.Fatal("incomplete result written")
	}
}

// FollowIssuer moves the existing tenant: its host, its domain, its
// Management API identifier and every grant to it, in one transaction;
// what is not derived from the issuer stays.
func TestEnsureFollowIssuerMovesTheTenant(t *testing.T) {
	st, box := setup(t)
	const oldIssuer, newIssuer = "http://127.0.0.1:8080/", "http://127.0.0.1:9090/"
	first, err := Ensure(ctx, st, box, Options{Issuer: oldIssuer})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.New(st, box)
	if err != nil {
		t.Fatal(err)
	}
	// A user's own API and a grant to it: untouched by the move.
	own, err := r.CreateResourceServer(ctx, DefaultTenantName, model.ResourceServer{ID: "rs_own", Name: "Own", Identifier: "https://api.example.com/", SigningAlg: model.SigningAlgRS256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateClientGrant(ctx, DefaultTenantName, model.ClientGrant{ID: "cgr_own", ClientID: first.ClientID, Audience: own.Identifier}); err != nil {
		t.Fatal(err)
	}

	res, err := Ensure(ctx, st, box, Options{Issuer: "HTTP://127.0.0.1:9090", FollowIssuer: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.MovedFrom != oldIssuer || res.Issuer != newIssuer || res.Audience != newIssuer+"api/v1/" || len(res.Ignored) != 0 || res.Created {
		t.Fatalf("Ensure = %+v", res)
	}
	if res.ClientID != first.ClientID || res.ClientSecret != first.ClientSecret {
		t.Fatal("the move changed the management client's credentials")
	}
	tn, err := r.GetTenantByHost(ctx, "127.0.0.1:9090")
	if err != nil || tn.Name != DefaultTenantName || tn.Internal.Issuer != newIssuer || tn.Domain != "127.0.0.1:9090" {
		t.Fatalf("tenant by the new host = %+v, %v", tn, err)
	}
	if _, err := r.GetTenantByHost(ctx, "127.0.0.1:8080"); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("the old host still names a tenant: %v", err)
	}
	api, err := r.GetResourceServerByIdentifier(ctx, DefaultTenantName, res.Audience)
	if err != nil || !api.IsSystem {
		t.Fatalf("Management API at the new identifier = %+v, %v", api, err)
	}
	if _, err := r.GetResourceServerByIdentifier(ctx, DefaultTenantName, first.Audience); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("the old identifier still names an API: %v", err)
	}
	g, err := r.GetClientGrantByPair(ctx, DefaultTenantName, first.ClientID, res.Audience)
	if err != nil || !slices.Equal(g.Scope, model.ManagementScopes()) {
		t.Fatalf("management grant at the new audience = %+v, %v", g, err)
	}
	if _, err := r.GetClientGrantByPair(ctx, DefaultTenantName, first.ClientID, first.Audience); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("the grant to the old audience remains: %v", err)
	}
	if g, err := r.GetClientGrantByPair(ctx, DefaultTenantName, first.ClientID, own.Identifier); err != nil || g.ID != "cgr_own" {
		t.Fatalf("the grant to the user's API = %+v, %v", g, err)
	}

	// Moved once: the same issuer again changes nothing.
	applied := st.AppliedIndex()
	if res, err := Ensure(ctx, st, box, Options{Issuer: newIssuer, FollowIssuer: true}); err != nil || res.MovedFrom != "" {
		t.Fatalf("Ensure again = %+v, %v", res, err)
	}
	if st.AppliedIndex() != applied {
		t.Fatal("an Ensure with the current issuer wrote to the store")
	}
}

// A move onto a host another tenant serves fails and changes nothing.
func TestEnsureFollowIssuerOntoATakenHost(t *testing.T) {
	st, box := setup(t)
	if _, err := Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:8080/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:9090/", TenantName: "other"}); err != nil {
		t.Fatal(err)
	}
	_, err := Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:9090/", FollowIssuer: true})
	if !errors.Is(err, repo.ErrDuplicate) || !strings.Contains(err.Error(), "host") {
		t.Fatalf("err = %v, want a duplicate host", err)
	}
	res, err := Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:8080/"})
	if err != nil || res.Issuer != "http://127.0.0.1:8080/" || len(res.Ignored) != 0 {
		t.Fatalf("default tenant after the failed move = %+v, %v", res, err)
	}
	r, err := repo.New(st, box)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetClientGrantByPair(ctx, DefaultTenantName, res.ClientID, res.Audience); err != nil {
		t.Fatalf("the management grant moved although the tenant did not: %v", err)
	}
}

// A move whose new Management API identifier another API already has
// fails and changes nothing: identifiers stay unique.
func TestEnsureFollowIssuerOntoATakenAudience(t *testing.T) {
	st, box := setup(t)
	first, err := Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.New(st, box)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateResourceServer(ctx, DefaultTenantName, model.ResourceServer{ID: "rs_own", Name: "Own", Identifier: "http://127.0.0.1:9090/api/v1/", SigningAlg: model.SigningAlgRS256}); err != nil {
		t.Fatal(err)
	}
	_, err = Ensure(ctx, st, box, Options{Issuer: "http://127.0.0.1:9090/", FollowIssuer: true})
	if !errors.Is(err, repo.ErrDuplicate) || !strings.Contains(err.Error(), "identifier") {
		t.Fatalf("err = %v, want a duplicate identifier", err)
	}
	tn, err := r.GetTenant(ctx, DefaultTenantName)
	if err != nil || tn.Internal.Issuer != first.Issuer {
		t.Fatalf("tenant after the failed move = %+v, %v", tn, err)
	}
	if api, err := r.GetResourceServerByIdentifier(ctx, DefaultTenantName, first.Audience); err != nil || !api.IsSystem {
		t.Fatalf("Management API after the failed move = %+v, %v", api, err)
	}
}
