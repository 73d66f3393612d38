package directory_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authok-edge/authok/shared/directory"
	"github.com/authok-edge/authok/shared/keys"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/tokens"
)

// countingSource counts the store reads the caches make.
type countingSource struct {
	*store.Local
	gets atomic.Int64
}

func (c *countingSource) Get(key []byte) (store.Item, error) {
	c.gets.Add(1)
	return c.Local.Get(key)
}

// countingSigners counts the signers the directory asks the manager for.
type countingSigners struct {
	m     *keys.Manager
	calls atomic.Int64
	// during, when set, runs inside Signer after the manager answered: a
	// write racing the fill.
	during func()
}

func (c *countingSigners) Signer(tenant string, alg tokens.Alg) (*tokens.Signer, error) {
	c.calls.Add(1)
	s, err := c.m.Signer(tenant, alg)
	if f := c.during; f != nil {
		f()
	}
	return s, err
}

type fixture struct {
	t       testing.TB
	st      *store.Local
	src     *countingSource
	repo    *repo.Repo
	keys    *keys.Manager
	signers *countingSigners
	dir     *directory.Directory
}

const (
	acmeIssuer    = "https://acme.example.com/"
	defaultIssuer = "http://127.0.0.1:8080/"
	apiID         = "https://api.example.com/things"
	clientID      = "client|with/odd chars"
	secret        = "s3cret-0123456789abcdef"
)

func newFixture(t testing.TB, cfg directory.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenLocalWith(t.TempDir(), store.LocalOptions{ReapInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, err := secretbox.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.New(st, box)
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range []model.Tenant{
		{Name: "acme", Internal: model.TenantInternal{Issuer: acmeIssuer}},
		{Name: "default", Internal: model.TenantInternal{Issuer: defaultIssuer}},
	} {
		if _, err := r.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
	km := keys.New(st, box)
	t.Cleanup(func() { km.Close() })
	for _, tn := range []string{"acme", "default"} {
		if err := km.Ensure(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.CreateResourceServer(ctx, "acme", model.ResourceServer{ID: "rs1", Name: "Things", Identifier: apiID, TokenLifetime: 600}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateClient(ctx, "acme", model.Client{ClientID: clientID, ClientSecret: secret, Name: "machine",
		GrantTypes: []string{model.GrantTypeClientCredentials}, TokenEndpointAuthMethod: model.AuthMethodClientSecretPost}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateClientGrant(ctx, "acme", model.ClientGrant{ID: "cg_1", ClientID: clientID, Audience: apiID, Scope: []string{"read:things", "write:things"}}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, src: &countingSource{Local: st}, repo: r, keys: km}
	f.signers = &countingSigners{m: km}
	cfg.Store, cfg.Repo, cfg.Signers = f.src, r, f.signers
	f.dir, err = directory.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.dir.Close)
	return f
}

// warm runs every lookup the token endpoint makes.
func (f *fixture) warm() {
	f.t.Helper()
	if _, err := f.dir.TenantByHostBytes([]byte("ACME.example.com")); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.dir.Client("acme", clientID); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.dir.ResourceServerByIdentifier("acme", apiID); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.dir.ClientGrant("acme", clientID, apiID); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.dir.Signer("acme", tokens.RS256); err != nil {
		f.t.Fatal(err)
	}
}

func TestLookups(t *testing.T) {
	f := newFixture(t, directory.Config{})
	for _, tc := range []struct {
		host, want string
	}{
		{"acme.example.com", "acme"},
		{"ACME.Example.COM", "acme"},       // case-insensitive
		{"acme.example.com.", "acme"},      // trailing dot
		{"acme.example.com:443", "acme"},   // the scheme's default port
		{"127.0.0.1:8080", "default"},      // the default tenant's own host
		{"unknown.example.com", "default"}, // no tenant: the default one
		{"localhost:8080", "default"},
	} {
		got, err := f.dir.TenantByHost(tc.host)
		if err != nil || got.Name != tc.want {
			t.Errorf("TenantByHost(%q) = %q, %v; want %q", tc.host, got.Name, err, tc.want)
		}
	}
	c, err := f.dir.Client("acme", clientID)
	if err != nil {
		t.Fatal(err)
	}
	if !c.SecretEqual([]byte(secret)) || c.SecretEqual([]byte(secret+"x")) || c.SecretEqual(nil) {
		t.Error("SecretEqual does not compare the opened secret")
	}
	if !c.AllowsGrantType(model.GrantTypeClientCredentials) || c.AllowsGrantType(model.GrantTypePassword) {
		t.Error("AllowsGrantType")
	}
	rs, err := f.dir.ResourceServerByIdentifier("acme", apiID)
	if err != nil || rs.ID != "rs1" || rs.TokenLifetime != 600 {
		t.Fatalf("ResourceServerByIdentifier = %+v, %v", rs, err)
	}
	g, err := f.dir.ClientGrant("acme", clientID, apiID)
	if err != nil || g.ID != "cg_1" || g.ScopeString != "read:things write:things" {
		t.Fatalf("ClientGrant = %+v, %v", g, err)
	}
	s, err := f.dir.Signer("acme", tokens.ES256)
	if err != nil || s.Alg() != tokens.ES256 {
		t.Fatalf("Signer = %v, %v", s, err)
	}
	for name, err := range map[string]error{
		"client":          second(f.dir.Client("acme", "nobody")),
		"client of other": second(f.dir.Client("default", clientID)),
		"empty client":    second(f.dir.Client("acme", "")),
		"api":             second(f.dir.ResourceServerByIdentifier("acme", "https://nope/")),
		"api of other":    second(f.dir.ResourceServerByIdentifier("default", apiID)),
		"grant":           second(f.dir.ClientGrant("acme", "nobody", apiID)),
		"grant audience":  second(f.dir.ClientGrant("acme", clientID, "https://nope/")),
	} {
		if !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestNoDefaultTenantFallback(t *testing.T) {
	f := newFixture(t, directory.Config{DefaultTenant: "-"})
	if _, err := f.dir.TenantByHost("unknown.example.com"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if tn, err := f.dir.TenantByHost("acme.example.com"); err != nil || tn.Name != "acme" {
		t.Fatalf("TenantByHost = %q, %v", tn.Name, err)
	}
}

// A warm lookup reads no disk: the caches answer every one of them, and
// the signer comes from the directory, not the key manager.
func TestWarmLookupsReadNothing(t *testing.T) {
	f := newFixture(t, directory.Config{})
	f.warm()
	gets, calls := f.src.gets.Load(), f.signers.calls.Load()
	before := f.dir.Stats()
	for range 100 {
		f.warm()
	}
	if n := f.src.gets.Load() - gets; n != 0 {
		t.Errorf("warm lookups read the store %d times", n)
	}
	if n := f.signers.calls.Load() - calls; n != 0 {
		t.Errorf("warm lookups built %d signers", n)
	}
	after := f.dir.Stats()
	if after.Clients.Misses != before.Clients.Misses || after.Clients.Hits-before.Clients.Hits != 100 {
		t.Errorf("client cache: before %+v after %+v", before.Clients, after.Clients)
	}
	if after.SignerHits-before.SignerHits != 100 || after.SignerMisses != before.SignerMisses {
		t.Errorf("signer: before %d/%d after %d/%d", before.SignerHits, before.SignerMisses, after.SignerHits, after.SignerMisses)
	}
	if raceEnabled {
		return // allocation counts are meaningless under the race detector
	}
	host := []byte("acme.example.com")
	for name, fn := range map[string]func(){
		"TenantByHostBytes": func() { f.dir.TenantByHostBytes(host) },
		"Client":            func() { f.dir.Client("acme", clientID) },
		"ResourceServer":    func() { f.dir.ResourceServerByIdentifier("acme", apiID) },
		"ClientGrant":       func() { f.dir.ClientGrant("acme", clientID, apiID) },
		"Signer":            func() { f.dir.Signer("acme", tokens.RS256) },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocations per warm lookup, want 0", name, n)
		}
	}
}

// Every write is seen by the next lookup, and drops only the entry of the
// key it wrote: a grant's scope change re-reads the grant record, not its
// pair index.
func TestWritesInvalidateTheirOwnEntries(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, directory.Config{})
	f.warm()

	reads := func(what string, want int64, lookup func()) {
		t.Helper()
		before := f.src.gets.Load()
		lookup()
		if n := f.src.gets.Load() - before; n != want {
			t.Errorf("%s: %d store reads, want %d", what, n, want)
		}
	}

	if _, err := f.repo.UpdateClientGrant(ctx, "acme", "cg_1", func(g model.ClientGrant) (model.ClientGrant, error) {
		g.Scope = []string{"read:things"}
		return g, nil
	}); err != nil {
		t.Fatal(err)
	}
	reads("grant after a scope change", 1, func() {
		g, err := f.dir.ClientGrant("acme", clientID, apiID)
		if err != nil || g.ScopeString != "read:things" {
			t.Errorf("ClientGrant = %+v, %v", g, err)
		}
	})

	rotated := model.Secret("rotated-secret-0123456789")
	if _, err := f.repo.UpdateClient(ctx, "acme", clientID, func(c model.Client) (model.Client, error) {
		c.ClientSecret = rotated
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	reads("client after a secret rotation", 1, func() {
		c, _ := f.dir.Client("acme", clientID)
		if c == nil || c.SecretEqual([]byte(secret)) || !c.SecretEqual([]byte(rotated)) {
			t.Error("the rotated secret is not the one compared")
		}
	})

	if _, err := f.repo.UpdateResourceServer(ctx, "acme", "rs1", func(rs model.ResourceServer) (model.ResourceServer, error) {
		rs.TokenLifetime = 60
		return rs, nil
	}); err != nil {
		t.Fatal(err)
	}
	reads("API after a change", 1, func() {
		rs, err := f.dir.ResourceServerByIdentifier("acme", apiID)
		if err != nil || rs.TokenLifetime != 60 {
			t.Errorf("ResourceServerByIdentifier = %+v, %v", rs, err)
		}
	})

	if err := f.repo.DeleteClientGrant(ctx, "acme", "cg_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dir.ClientGrant("acme", clientID, apiID); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("deleted grant: err = %v, want ErrNotFound", err)
	}

	// Moving the tenant to another host moves the host index.
	if _, err := f.repo.UpdateTenant(ctx, "acme", func(tn model.Tenant) (model.Tenant, error) {
		tn.Internal.Issuer = "https://login.acme.example.com/"
		return tn, nil
	}); err != nil {
		t.Fatal(err)
	}
	if tn, _ := f.dir.TenantByHost("acme.example.com"); tn.Name != "default" {
		t.Errorf("old host: tenant %q, want the default", tn.Name)
	}
	if tn, _ := f.dir.TenantByHost("login.acme.example.com"); tn.Name != "acme" {
		t.Errorf("new host: tenant %q, want acme", tn.Name)
	}

	if err := f.repo.DeleteClient(ctx, "acme", clientID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dir.Client("acme", clientID); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("deleted client: err = %v, want ErrNotFound", err)
	}
}

// A rotation drops the tenant's signers (and only that tenant's).
func TestSignerFollowsRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, directory.Config{})
	s1, err := f.dir.Signer("acme", tokens.RS256)
	if err != nil {
		t.Fatal(err)
	}
	d1, err := f.dir.Signer("default", tokens.RS256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.keys.Rotate(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	calls := f.signers.calls.Load()
	s2, err := f.dir.Signer("acme", tokens.RS256)
	if err != nil {
		t.Fatal(err)
	}
	if s2.KID() == s1.KID() {
		t.Fatalf("the signer after a rotation still has kid %s", s1.KID())
	}
	if d2, _ := f.dir.Signer("default", tokens.RS256); d2 != d1 {
		t.Error("another tenant's rotation dropped this tenant's signer")
	}
	if n := f.signers.calls.Load() - calls; n != 1 {
		t.Errorf("%d signers built after the rotation, want 1 (acme only)", n)
	}
}

// A rotation applied while a signer is being built must not leave the old
// signer cached.
func TestSignerFillRacingRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, directory.Config{})
	var once atomic.Bool
	f.signers.during = func() {
		if once.CompareAndSwap(false, true) {
			if _, err := f.keys.Rotate(ctx, "acme"); err != nil {
				t.Error(err)
			}
		}
	}
	old, err := f.dir.Signer("acme", tokens.EdDSA) // built, then the keys rotate
	if err != nil {
		t.Fatal(err)
	}
	f.signers.during = nil
	cur, err := f.dir.Signer("acme", tokens.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	if cur.KID() == old.KID() {
		t.Fatal("the signer built across a rotation was cached")
	}
	want, _ := f.keys.Signer("acme", tokens.EdDSA)
	if cur.KID() != want.KID() {
		t.Fatalf("kid %s, want the current %s", cur.KID(), want.KID())
	}
}

// The key builders the directory uses produce the repository's exact keys.
func TestAppendKeysMatchRepoKeys(t *testing.T) {
	for c := 0; c < 256; c++ {
		s := string([]byte{'a', byte(c), 'z'})
		if got, want := string(repo.AppendEscaped(nil, s)), url.PathEscape(s); got != want {
			t.Fatalf("AppendEscaped(%q) = %q, url.PathEscape = %q", s, got, want)
		}
	}
	for _, id := range []string{"plain", "with/slash", "pipe|x", "sp ace", "é", "%41", "a;b,c?d", strings.Repeat("x", 300)} {
		check := func(name string, got, want []byte) {
			t.Helper()
			if string(got) != string(want) {
				t.Errorf("%s(%q) = %q, want %q", name, id, got, want)
			}
		}
		check("host", repo.AppendHostKey(nil, id), repo.HostKey(id))
		check("tenant", repo.AppendTenantKey(nil, id), repo.TenantKey(id))
		check("client", repo.AppendClientKey(nil, "acme", id), repo.ClientKey("acme", id))
		check("rs", repo.AppendResourceServerKey(nil, "acme", id), repo.ResourceServerKey("acme", id))
		check("rs-ident", repo.AppendResourceServerIdentifierKey(nil, "acme", id), repo.ResourceServerIdentifierKey("acme", id))
		check("cg", repo.AppendClientGrantKey(nil, "acme", id), repo.ClientGrantKey("acme", id))
		check("cg-pair", repo.AppendClientGrantPairKey(nil, "acme", id, id+"/aud"), repo.ClientGrantPairKey("acme", id, id+"/aud"))
	}
}

func FuzzAppendEscaped(f *testing.F) {
	f.Add("https://api.example.com/v1?x=y")
	f.Add("a|b/c d%")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(repo.AppendEscaped(nil, s)), url.PathEscape(s); got != want {
			t.Fatalf("AppendEscaped(%q) = %q, want %q", s, got, want)
		}
	})
}

// BenchmarkWarmLookups is every directory lookup of one token request.
func BenchmarkWarmLookups(b *testing.B) {
	f := newFixture(b, directory.Config{})
	f.warm()
	host := []byte("acme.example.com")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tn, _ := f.dir.TenantByHostBytes(host)
		f.dir.Client(tn.Name, clientID)
		f.dir.ResourceServerByIdentifier(tn.Name, apiID)
		f.dir.ClientGrant(tn.Name, clientID, apiID)
		f.dir.Signer(tn.Name, tokens.RS256)
	}
	b.StopTimer()
	if n := f.src.gets.Load(); n > 0 {
		b.Logf("store reads: %d (all during setup and warm-up)", n)
	}
}
