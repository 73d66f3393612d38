package repo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/store/storetest"
)

type fixture struct {
	st  *store.Local
	box secretbox.Key
	r   *Repo
}

func newFixture(t *testing.T, opts ...Option) fixture {
	t.Helper()
	st := storetest.Local(t)
	box, err := secretbox.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(st, box, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{st: st, box: box, r: r}
}

var ctx = context.Background()

func mustTenant(t *testing.T, r *Repo, name, issuer string) model.Tenant {
	t.Helper()
	tn, err := r.CreateTenant(ctx, model.Tenant{Name: name, Internal: model.TenantInternal{Issuer: issuer}})
	if err != nil {
		t.Fatalf("CreateTenant %s: %v", name, err)
	}
	return tn
}

func mustClient(t *testing.T, r *Repo, tenant, id string) model.Client {
	t.Helper()
	c, err := r.CreateClient(ctx, tenant, model.Client{ClientID: id, ClientSecret: model.Secret("secret-of-" + id + "-0123456789"), Name: id, AppType: model.AppTypeNonInteractive})
	if err != nil {
		t.Fatalf("CreateClient %s: %v", id, err)
	}
	return c
}

func mustRS(t *testing.T, r *Repo, tenant, id, identifier string) model.ResourceServer {
	t.Helper()
	rs, err := r.CreateResourceServer(ctx, tenant, model.ResourceServer{ID: id, Name: id, Identifier: identifier, Scopes: []model.ResourceServerScope{{Value: "read:x"}}})
	if err != nil {
		t.Fatalf("CreateResourceServer %s: %v", id, err)
	}
	return rs
}

func mustGrant(t *testing.T, r *Repo, tenant, id, clientID, audience string) model.ClientGrant {
	t.Helper()
	g, err := r.CreateClientGrant(ctx, tenant, model.ClientGrant{ID: id, ClientID: clientID, Audience: audience, Scope: []string{"read:x"}})
	if err != nil {
		t.Fatalf("CreateClientGrant %s: %v", id, err)
	}
	return g
}

func rawKeys(t *testing.T, st store.Store, prefix string) []string {
	t.Helper()
	var keys []string
	var after []byte
	for {
		items, next, err := st.Scan([]byte(prefix), after, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			keys = append(keys, string(it.Key))
		}
		if next == nil {
			return keys
		}
		after = next
	}
}

func TestNew(t *testing.T) {
	f := newFixture(t)
	if _, err := New(nil, f.box); err == nil {
		t.Error("nil store accepted")
	}
	if _, err := New(f.st, secretbox.Key{}); err == nil {
		t.Error("zero key accepted")
	}
}

func TestKeySchema(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.us.authok.cn/")
	mustClient(t, f.r, "acme", "c1")
	mustRS(t, f.r, "acme", "rs1", "https://api.example.com/v1/")
	mustGrant(t, f.r, "acme", "cg_1", "c1", "https://api.example.com/v1/")
	got := rawKeys(t, f.st, "")
	want := []string{
		"host/acme.us.authok.cn",
		"t/acme/cg-pair/c1/https:%2F%2Fapi.example.com%2Fv1%2F",
		"t/acme/cg/cg_1",
		"t/acme/client/c1",
		"t/acme/rs-ident/https:%2F%2Fapi.example.com%2Fv1%2F",
		"t/acme/rs/rs1",
		"tenant/acme",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("keys:\n got %q\nwant %q", got, want)
	}
}

func TestTenants(t *testing.T) {
	f := newFixture(t)
	tn := mustTenant(t, f.r, "acme", "https://ACME.us.authok.cn:443/")
	if tn.ID != "acme" || tn.Version == 0 {
		t.Fatalf("created tenant %+v", tn)
	}
	got, err := f.r.GetTenant(ctx, "acme")
	if err != nil || got.Internal.Issuer != "https://ACME.us.authok.cn:443/" || got.Version != tn.Version {
		t.Fatalf("GetTenant = %+v, %v", got, err)
	}
	for _, host := range []string{"acme.us.authok.cn", "ACME.us.authok.cn."} {
		if got, err := f.r.GetTenantByHost(ctx, host); err != nil || got.Name != "acme" {
			t.Errorf("GetTenantByHost(%q) = %v, %v", host, got.Name, err)
		}
	}
	if _, err := f.r.GetTenantByHost(ctx, "other.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown host: %v", err)
	}

	tests := []struct {
		name    string
		tenant  model.Tenant
		wantErr error
	}{
		{name: "duplicate name", tenant: model.Tenant{Name: "acme", Internal: model.TenantInternal{Issuer: "https://x.example/"}}, wantErr: ErrDuplicate},
		{name: "duplicate host", tenant: model.Tenant{Name: "beta", Internal: model.TenantInternal{Issuer: "https://acme.us.authok.cn/"}}, wantErr: ErrDuplicate},
		{name: "upper case name", tenant: model.Tenant{Name: "Acme", Internal: model.TenantInternal{Issuer: "https://y.example/"}}, wantErr: ErrInvalid},
		{name: "slash in name", tenant: model.Tenant{Name: "a/b", Internal: model.TenantInternal{Issuer: "https://y.example/"}}, wantErr: ErrInvalid},
		{name: "empty name", tenant: model.Tenant{Internal: model.TenantInternal{Issuer: "https://y.example/"}}, wantErr: ErrInvalid},
		{name: "id differs", tenant: model.Tenant{ID: "x", Name: "gamma", Internal: model.TenantInternal{Issuer: "https://y.example/"}}, wantErr: ErrInvalid},
		{name: "no issuer", tenant: model.Tenant{Name: "gamma"}, wantErr: ErrInvalid},
		{name: "relative issuer", tenant: model.Tenant{Name: "gamma", Internal: model.TenantInternal{Issuer: "/x/"}}, wantErr: ErrInvalid},
		{name: "issuer without slash", tenant: model.Tenant{Name: "gamma", Internal: model.TenantInternal{Issuer: "https://y.example"}}, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.r.CreateTenant(ctx, tt.tenant)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}

	mustTenant(t, f.r, "beta", "http://127.0.0.1:8080/")
	list, next, err := f.r.ListTenants(ctx, "", 0)
	if err != nil || len(list) != 2 || list[0].Name != "acme" || list[1].Name != "beta" || next != "" {
		t.Fatalf("ListTenants = %v, %q, %v", list, next, err)
	}

	// A new issuer moves the host index.
	up, err := f.r.UpdateTenant(ctx, "beta", func(old model.Tenant) (model.Tenant, error) {
		old.Internal.Issuer = "http://127.0.0.1:9090/"
		old.DisplayName = "Beta"
		return old, nil
	})
	if err != nil || up.DisplayName != "Beta" || up.Version <= tn.Version {
		t.Fatalf("UpdateTenant = %+v, %v", up, err)
	}
	if _, err := f.r.GetTenantByHost(ctx, "127.0.0.1:8080"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old host still resolves: %v", err)
	}
	if got, err := f.r.GetTenantByHost(ctx, "127.0.0.1:9090"); err != nil || got.Name != "beta" {
		t.Errorf("new host: %v %v", got.Name, err)
	}
	// Moving onto a taken host is a duplicate and changes nothing.
	_, err = f.r.UpdateTenant(ctx, "beta", func(old model.Tenant) (model.Tenant, error) {
		old.Internal.Issuer = "https://acme.us.authok.cn/"
		return old, nil
	})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("update onto taken host: %v", err)
	}
	if got, _ := f.r.GetTenant(ctx, "beta"); got.Internal.Issuer != "http://127.0.0.1:9090/" {
		t.Fatalf("failed update changed the issuer to %q", got.Internal.Issuer)
	}
}

func TestDeleteTenantPurges(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustTenant(t, f.r, "other", "https://other.example/")
	for i := range 300 { // more than one purge batch
		mustClient(t, f.r, "acme", fmt.Sprintf("c%03d", i))
	}
	mustClient(t, f.r, "other", "keep")
	if err := f.r.DeleteTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if keys := rawKeys(t, f.st, "t/acme/"); len(keys) != 0 {
		t.Fatalf("%d keys left after purge", len(keys))
	}
	if _, err := f.r.GetTenantByHost(ctx, "acme.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("host index left: %v", err)
	}
	if _, err := f.r.GetClient(ctx, "other", "keep"); err != nil {
		t.Errorf("other tenant's client deleted: %v", err)
	}
	if err := f.r.DeleteTenant(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	// Creating under a deleted tenant fails; re-creating the tenant works.
	if _, err := f.r.CreateClient(ctx, "acme", model.Client{ClientID: "late"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("create under deleted tenant: %v", err)
	}
	mustTenant(t, f.r, "acme", "https://acme.example/")
}

func TestDeleteTenantRefusesLeftovers(t *testing.T) {
	f := newFixture(t)
	// Simulate an interrupted purge: data with no tenant record.
	if _, err := f.st.Apply(ctx, store.Txn{Ops: []store.Op{store.Put([]byte("t/ghost/client/x"), []byte("{}"))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.CreateTenant(ctx, model.Tenant{Name: "ghost", Internal: model.TenantInternal{Issuer: "https://ghost.example/"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("create over leftovers: %v", err)
	}
	if err := f.r.DeleteTenant(ctx, "ghost"); err != nil {
		t.Fatalf("finishing the purge: %v", err)
	}
	mustTenant(t, f.r, "ghost", "https://ghost.example/")
}

func fullClient() model.Client {
	return model.Client{
		ClientID:                       "T3N340S-OGz5mNc5-BqxVhP9JD_NbeGQ",
		ClientSecret:                   "plaintext-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ",
		Tenant:                         "ignored-and-overwritten",
		Name:                           "My App",
		DisplayName:                    "My Application",
		Description:                    "desc",
		LogoURI:                        "https://logo",
		AppType:                        model.AppTypeWeb,
		IsFirstParty:                   true,
		OIDCConformant:                 true,
		ResponseTypes:                  []string{"code"},
		GrantTypes:                     []string{model.GrantTypeAuthorizationCode, model.GrantTypeRefreshToken},
		TokenEndpointAuthMethod:        model.AuthMethodClientSecretBasic,
		RedirectURIs:                   []string{"https://app/cb"},
		AllowedOrigins:                 []string{"https://app"},
		WebOrigins:                     []string{"https://app"},
		ClientAliases:                  []string{"urn:app"},
		AllowedClients:                 []string{"other"},
		AllowedLogoutURLs:              []string{"https://app/bye"},
		JWTConfiguration:               model.JWTConfiguration{LifetimeInSeconds: 36000, Alg: "RS256"},
		EncryptionKey:                  model.EncryptionKey{Pub: "pub"},
		SSO:                            true,
		CrossOriginAuth:                true,
		CrossOriginLoc:                 "https://app/co",
		CustomLoginPageOn:              true,
		CustomLoginPage:                "<html>",
		FormTemplate:                   "<form>",
		Addons:                         model.Addons{"samlp": json.RawMessage(`{"audience":"urn:sp"}`)},
		ClientMetadata:                 map[string]string{"k": "v"},
		Mobile:                         model.Mobile{Android: &model.MobileAndroid{AppPackageName: "com.x"}},
		InitiateLoginURI:               "https://app/login",
		NativeSocialLogin:              model.NativeSocialLogin{Apple: &model.Enabled{Enabled: true}},
		RefreshToken:                   model.RefreshToken{RotationType: model.RotationTypeRotating, ExpirationType: model.ExpirationTypeExpiring, TokenLifetime: 3600},
		OrganizationUsage:              model.OrganizationUsageAllow,
		OrganizationRequireBehavior:    model.OrganizationRequireNoPrompt,
		IsTokenEndpointIPHeaderTrusted: true,
		SigningKeys:                    []map[string]string{{"kid": "read-only"}},
		OIDC: model.ClientOIDC{
			IDTokenSignedResponseAlg: "RS256", RequireAuthTime: true, SubjectType: "public",
			RevocationEndpointAuthMethod: "client_secret_post", RequireSignedRequestObject: true, RequestURIs: []string{"https://app/req"},
		},
	}
}

func TestClientRoundTripAndEncryption(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	in := fullClient()
	created, err := f.r.CreateClient(ctx, "acme", in)
	if err != nil {
		t.Fatal(err)
	}
	if created.Tenant != "acme" || created.SigningKeys != nil || created.Version == 0 {
		t.Fatalf("created: tenant %q, signing keys %v, version %d", created.Tenant, created.SigningKeys, created.Version)
	}
	got, err := f.r.GetClient(ctx, "acme", in.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Tenant, want.SigningKeys, want.Version = "acme", nil, created.Version
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) {
		t.Fatalf("round trip:\n got %s\nwant %s", gj, wj)
	}
	if got.ClientSecret != in.ClientSecret || got.Version != created.Version {
		t.Fatalf("secret or version differ")
	}
	if fmt.Sprint(got.OIDC) != fmt.Sprint(in.OIDC) {
		t.Fatalf("hidden OIDC fields: got %+v want %+v", got.OIDC, in.OIDC)
	}

	// The stored bytes hold the sealed secret, never the plaintext.
	raw, err := f.st.Get(clientKey("acme", in.ClientID))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw.Value, []byte(in.ClientSecret.Reveal())) {
		t.Fatal("plaintext client secret found in the stored record")
	}
	var rec clientRecord
	if err := json.Unmarshal(raw.Value, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.SealedSecret) != len(in.ClientSecret)+secretbox.Overhead || rec.Client.ClientSecret != "" {
		t.Fatalf("record secret fields: sealed %d bytes, clear %q", len(rec.SealedSecret), rec.Client.ClientSecret)
	}
	if !bytes.Contains(raw.Value, []byte(`"require_auth_time":true`)) {
		t.Error("hidden OIDC fields not stored")
	}

	// A client without a secret stores none.
	pub, err := f.r.CreateClient(ctx, "acme", model.Client{ClientID: "public", AppType: model.AppTypeSPA})
	if err != nil || pub.ClientSecret != "" {
		t.Fatal(err)
	}
	if raw, _ := f.st.Get(clientKey("acme", "public")); bytes.Contains(raw.Value, []byte("sealed_secret")) {
		t.Error("sealed secret stored for a client without one")
	}
}

func TestSecretBoundToRecord(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustTenant(t, f.r, "evil", "https://evil.example/")
	mustClient(t, f.r, "acme", "victim")
	mustClient(t, f.r, "evil", "attacker")
	raw, _ := f.st.Get(clientKey("acme", "victim"))

	// Copy the victim's record over another client's record, in the same
	// tenant and in another tenant: the sealed secret must not open there.
	tests := []struct {
		name, tenant, id string
		value            []byte
	}{
		{name: "same tenant, other client", tenant: "acme", id: "victim2", value: bytes.Replace(raw.Value, []byte(`"client_id":"victim"`), []byte(`"client_id":"victim2"`), 1)},
		{name: "other tenant, same id", tenant: "evil", id: "victim", value: raw.Value},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.st.Apply(ctx, store.Txn{Ops: []store.Op{store.Put(clientKey(tt.tenant, tt.id), tt.value)}}); err != nil {
				t.Fatal(err)
			}
			_, err := f.r.GetClient(ctx, tt.tenant, tt.id)
			if !errors.Is(err, secretbox.ErrOpen) {
				t.Fatalf("GetClient of a swapped record = %v, want a secretbox error", err)
			}
		})
	}

	// Another master key cannot read the secrets.
	other, _ := secretbox.GenerateKey(rand.Reader)
	r2, _ := New(f.st, other)
	if _, err := r2.GetClient(ctx, "acme", "victim"); !errors.Is(err, secretbox.ErrOpen) {
		t.Fatalf("GetClient with another master key = %v", err)
	}
}

func TestClientErrors(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustClient(t, f.r, "acme", "c1")
	tests := []struct {
		name    string
		tenant  string
		client  model.Client
		wantErr error
	}{
		{name: "duplicate id", tenant: "acme", client: model.Client{ClientID: "c1"}, wantErr: ErrDuplicate},
		{name: "missing tenant", tenant: "nope", client: model.Client{ClientID: "c2"}, wantErr: ErrNotFound},
		{name: "empty id", tenant: "acme", client: model.Client{}, wantErr: ErrInvalid},
		{name: "control character", tenant: "acme", client: model.Client{ClientID: "a\nb"}, wantErr: ErrInvalid},
		{name: "too long", tenant: "acme", client: model.Client{ClientID: strings.Repeat("a", maxIDLen+1)}, wantErr: ErrInvalid},
		{name: "bad tenant name", tenant: "../x", client: model.Client{ClientID: "c3"}, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.r.CreateClient(ctx, tt.tenant, tt.client); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	// Ids with slashes stay distinct keys.
	mustClient(t, f.r, "acme", "a/b")
	mustClient(t, f.r, "acme", "a%2Fb")
	if c, err := f.r.GetClient(ctx, "acme", "a/b"); err != nil || c.ClientID != "a/b" {
		t.Fatalf("GetClient a/b = %v %v", c.ClientID, err)
	}
	if _, err := f.r.GetClient(ctx, "acme", "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetClient missing: %v", err)
	}
	if err := f.r.DeleteClient(ctx, "acme", "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteClient missing: %v", err)
	}
}

func TestListClientsPages(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustTenant(t, f.r, "acme2", "https://acme2.example/")
	var want []string
	for i := range 25 {
		id := fmt.Sprintf("client-%02d", i)
		mustClient(t, f.r, "acme", id)
		want = append(want, id)
	}
	mustClient(t, f.r, "acme2", "not-mine") // "acme2" shares a prefix with "acme"
	var got []string
	after := ""
	pages := 0
	for {
		page, next, err := f.r.ListClients(ctx, "acme", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range page {
			got = append(got, c.ClientID)
			if c.ClientSecret == "" {
				t.Errorf("listed client %s without its secret", c.ClientID)
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Fatalf("pages %d, got %v", pages, got)
	}
}

func TestUpdateClient(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	c := mustClient(t, f.r, "acme", "c1")

	up, err := f.r.UpdateClient(ctx, "acme", "c1", func(old model.Client) (model.Client, error) {
		if old.Version != c.Version {
			return old, fmt.Errorf("closure saw version %d, want %d", old.Version, c.Version)
		}
		old.Name = "renamed"
		old.ClientSecret = "rotated-secret-0123456789"
		old.Version = 12345 // ignored
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Name != "renamed" || up.Version <= c.Version || up.Version == 12345 {
		t.Fatalf("updated: %+v", up)
	}
	got, _ := f.r.GetClient(ctx, "acme", "c1")
	if got.ClientSecret != "rotated-secret-0123456789" || got.Version != up.Version {
		t.Fatalf("after update: secret changed %v, version %d", got.ClientSecret == "rotated-secret-0123456789", got.Version)
	}

	sentinel := errors.New("closure says no")
	tests := []struct {
		name    string
		id      string
		fn      func(model.Client) (model.Client, error)
		wantErr error
	}{
		{name: "closure error passes through", id: "c1", fn: func(c model.Client) (model.Client, error) { return c, sentinel }, wantErr: sentinel},
		{name: "missing", id: "nope", fn: func(c model.Client) (model.Client, error) { return c, nil }, wantErr: ErrNotFound},
		{name: "client_id immutable", id: "c1", fn: func(c model.Client) (model.Client, error) { c.ClientID = "c2"; return c, nil }, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.r.UpdateClient(ctx, "acme", tt.id, tt.fn); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if got, _ := f.r.GetClient(ctx, "acme", "c1"); got.Version != up.Version {
		t.Fatal("a failed update wrote")
	}
}

// TestUpdateClientConcurrent: N writers each append M values through
// UpdateClient; every append must survive (no lost update).
func TestUpdateClientConcurrent(t *testing.T) {
	f := newFixture(t, WithMaxAttempts(1000))
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustClient(t, f.r, "acme", "c1")
	const n, m = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, n*m)
	for w := range n {
		wg.Go(func() {
			for i := range m {
				_, err := f.r.UpdateClient(ctx, "acme", "c1", func(old model.Client) (model.Client, error) {
					old.AllowedOrigins = append(old.AllowedOrigins, fmt.Sprintf("https://w%d-%d", w, i))
					if old.ClientMetadata == nil {
						old.ClientMetadata = map[string]string{}
					}
					old.ClientMetadata["count"] = fmt.Sprint(len(old.AllowedOrigins))
					return old, nil
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := f.r.GetClient(ctx, "acme", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.AllowedOrigins) != n*m || got.ClientMetadata["count"] != fmt.Sprint(n*m) {
		t.Fatalf("after %d updates: %d origins, count %s", n*m, len(got.AllowedOrigins), got.ClientMetadata["count"])
	}
	seen := map[string]bool{}
	for _, o := range got.AllowedOrigins {
		if seen[o] {
			t.Fatalf("duplicate %s", o)
		}
		seen[o] = true
	}
}

// TestUpdateClientConcurrentBounded: with the default bound, an update
// either lands or reports ErrConflict; nothing in between.
func TestUpdateClientConcurrentBounded(t *testing.T) {
	f := newFixture(t, WithMaxAttempts(2), WithBackoff(func(int) time.Duration { return 0 }))
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustClient(t, f.r, "acme", "c1")
	const n, m = 8, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflicts := 0, 0
	for range n {
		wg.Go(func() {
			for range m {
				_, err := f.r.UpdateClient(ctx, "acme", "c1", func(old model.Client) (model.Client, error) {
					old.WebOrigins = append(old.WebOrigins, "x")
					return old, nil
				})
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrConflict):
					conflicts++
				default:
					t.Errorf("unexpected error %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got, _ := f.r.GetClient(ctx, "acme", "c1")
	if len(got.WebOrigins) != ok {
		t.Fatalf("%d successful updates but %d appends stored (%d conflicts)", ok, len(got.WebOrigins), conflicts)
	}
	t.Logf("%d landed, %d gave up with ErrConflict", ok, conflicts)
}

func TestUpdateGivesUpWithErrConflict(t *testing.T) {
	f := newFixture(t, WithMaxAttempts(3), WithBackoff(func(int) time.Duration { return 0 }))
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustClient(t, f.r, "acme", "c1")
	calls := 0
	_, err := f.r.UpdateClient(ctx, "acme", "c1", func(old model.Client) (model.Client, error) {
		calls++
		// A competing writer lands between our read and our write, every time.
		if _, err := f.r.UpdateClient(ctx, "acme", "c1", func(o model.Client) (model.Client, error) {
			o.Description += "+"
			return o, nil
		}); err != nil {
			return old, err
		}
		old.Name = "never stored"
		return old, nil
	})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if calls != 3 {
		t.Errorf("closure ran %d times, want 3", calls)
	}
	got, _ := f.r.GetClient(ctx, "acme", "c1")
	if got.Name == "never stored" || got.Description != "+++" {
		t.Fatalf("after conflict: name %q description %q", got.Name, got.Description)
	}
}

func TestUpdateRespectsContext(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustClient(t, f.r, "acme", "c1")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.r.UpdateClient(cctx, "acme", "c1", func(c model.Client) (model.Client, error) { return c, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestResourceServers(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	rs, err := f.r.CreateResourceServer(ctx, "acme", model.ResourceServer{
		ID: "rs1", Name: "API", Identifier: "https://api.example/", SigningAlg: model.SigningAlgHS256,
		SigningSecret: "hs256-signing-secret-value", TokenLifetime: 60, Client: json.RawMessage(`{"x":1}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if rs.Client != nil {
		t.Error("read-only client field stored")
	}
	got, err := f.r.GetResourceServerByIdentifier(ctx, "acme", "https://api.example/")
	if err != nil || got.ID != "rs1" || got.SigningSecret != "hs256-signing-secret-value" || got.Version != rs.Version {
		t.Fatalf("by identifier: %+v %v", got, err)
	}
	raw, _ := f.st.Get(rsKey("acme", "rs1"))
	if bytes.Contains(raw.Value, []byte("hs256-signing-secret-value")) {
		t.Fatal("plaintext signing secret stored")
	}
	if _, err := f.r.GetResourceServerByIdentifier(ctx, "acme", "https://api.example"); !errors.Is(err, ErrNotFound) {
		t.Errorf("identifier lookup is exact: %v", err)
	}

	tests := []struct {
		name    string
		rs      model.ResourceServer
		wantErr error
	}{
		{name: "duplicate identifier", rs: model.ResourceServer{ID: "rs2", Identifier: "https://api.example/"}, wantErr: ErrDuplicate},
		{name: "duplicate id", rs: model.ResourceServer{ID: "rs1", Identifier: "https://other.example/"}, wantErr: ErrDuplicate},
		{name: "empty identifier", rs: model.ResourceServer{ID: "rs3"}, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.r.CreateResourceServer(ctx, "acme", tt.rs); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}

	updates := []struct {
		name    string
		fn      func(model.ResourceServer) (model.ResourceServer, error)
		wantErr error
	}{
		{name: "identifier immutable", fn: func(r model.ResourceServer) (model.ResourceServer, error) { r.Identifier = "https://x/"; return r, nil }, wantErr: ErrInvalid},
		{name: "is_system immutable", fn: func(r model.ResourceServer) (model.ResourceServer, error) { r.IsSystem = true; return r, nil }, wantErr: ErrInvalid},
		{name: "scopes", fn: func(r model.ResourceServer) (model.ResourceServer, error) {
			r.Scopes = append(r.Scopes, model.ResourceServerScope{Value: "write:x"})
			return r, nil
		}},
	}
	for _, tt := range updates {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.r.UpdateResourceServer(ctx, "acme", "rs1", tt.fn); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if got, _ := f.r.GetResourceServer(ctx, "acme", "rs1"); !got.HasScope("write:x") || got.SigningSecret != "hs256-signing-secret-value" {
		t.Fatalf("after update: %+v", got)
	}

	sys, err := f.r.CreateResourceServer(ctx, "acme", model.ResourceServer{ID: "sys", Identifier: "https://acme.example/api/v1/", IsSystem: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.r.DeleteResourceServer(ctx, "acme", sys.ID); !errors.Is(err, ErrInvalid) {
		t.Fatalf("deleting the system API: %v", err)
	}
	list, _, err := f.r.ListResourceServers(ctx, "acme", "", 0)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d %v", len(list), err)
	}
}

func TestClientGrants(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustClient(t, f.r, "acme", "c1")
	mustRS(t, f.r, "acme", "rs1", "https://api.example/")
	g := mustGrant(t, f.r, "acme", "cg_1", "c1", "https://api.example/")

	tests := []struct {
		name    string
		grant   model.ClientGrant
		wantErr error
	}{
		{name: "duplicate pair", grant: model.ClientGrant{ID: "cg_2", ClientID: "c1", Audience: "https://api.example/"}, wantErr: ErrDuplicate},
		{name: "duplicate id", grant: model.ClientGrant{ID: "cg_1", ClientID: "c1", Audience: "https://api.example/"}, wantErr: ErrDuplicate},
		{name: "unknown client", grant: model.ClientGrant{ID: "cg_3", ClientID: "ghost", Audience: "https://api.example/"}, wantErr: ErrNotFound},
		{name: "unknown audience", grant: model.ClientGrant{ID: "cg_4", ClientID: "c1", Audience: "https://nope.example/"}, wantErr: ErrNotFound},
		{name: "empty audience", grant: model.ClientGrant{ID: "cg_5", ClientID: "c1"}, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.r.CreateClientGrant(ctx, "acme", tt.grant); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	// The duplicate-pair error says what is duplicated.
	_, err := f.r.CreateClientGrant(ctx, "acme", model.ClientGrant{ID: "cg_2", ClientID: "c1", Audience: "https://api.example/"})
	if err == nil || !strings.Contains(err.Error(), "audience") {
		t.Errorf("duplicate pair error %v", err)
	}

	byPair, err := f.r.GetClientGrantByPair(ctx, "acme", "c1", "https://api.example/")
	if err != nil || byPair.ID != g.ID || byPair.Version != g.Version {
		t.Fatalf("by pair: %+v %v", byPair, err)
	}
	up, err := f.r.UpdateClientGrant(ctx, "acme", "cg_1", func(old model.ClientGrant) (model.ClientGrant, error) {
		old.Scope = []string{"read:x", "write:x"}
		return old, nil
	})
	if err != nil || !up.Allows("write:x") {
		t.Fatalf("update scope: %+v %v", up, err)
	}
	if _, err := f.r.UpdateClientGrant(ctx, "acme", "cg_1", func(old model.ClientGrant) (model.ClientGrant, error) {
		old.Audience = "https://other/"
		return old, nil
	}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("changing audience: %v", err)
	}

	if err := f.r.DeleteClientGrant(ctx, "acme", "cg_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.GetClientGrantByPair(ctx, "acme", "c1", "https://api.example/"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pair index survived delete: %v", err)
	}
	mustGrant(t, f.r, "acme", "cg_again", "c1", "https://api.example/") // the pair is free again
}

func TestDeleteCascades(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustClient(t, f.r, "acme", "c1")
	mustClient(t, f.r, "acme", "c2")
	mustRS(t, f.r, "acme", "rsA", "https://a.example/")
	mustRS(t, f.r, "acme", "rsB", "https://b.example/")
	mustGrant(t, f.r, "acme", "cg_1a", "c1", "https://a.example/")
	mustGrant(t, f.r, "acme", "cg_1b", "c1", "https://b.example/")
	mustGrant(t, f.r, "acme", "cg_2a", "c2", "https://a.example/")
	mustGrant(t, f.r, "acme", "cg_2b", "c2", "https://b.example/")

	grantIDs := func() []string {
		gs, _, err := f.r.ListClientGrants(ctx, "acme", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, g := range gs {
			ids = append(ids, g.ID)
		}
		return ids
	}

	if err := f.r.DeleteClient(ctx, "acme", "c1"); err != nil {
		t.Fatal(err)
	}
	if got := grantIDs(); !slices.Equal(got, []string{"cg_2a", "cg_2b"}) {
		t.Fatalf("after deleting c1: grants %v", got)
	}
	if keys := rawKeys(t, f.st, "t/acme/cg-pair/c1/"); len(keys) != 0 {
		t.Fatalf("pair index keys of c1 left: %v", keys)
	}
	if gs, _ := f.r.ListClientGrantsByClient(ctx, "acme", "c2"); len(gs) != 2 {
		t.Fatalf("c2 grants: %v", gs)
	}

	if err := f.r.DeleteResourceServer(ctx, "acme", "rsA"); err != nil {
		t.Fatal(err)
	}
	if got := grantIDs(); !slices.Equal(got, []string{"cg_2b"}) {
		t.Fatalf("after deleting rsA: grants %v", got)
	}
	if _, err := f.r.GetResourceServerByIdentifier(ctx, "acme", "https://a.example/"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("identifier index survived: %v", err)
	}
	if got := rawKeys(t, f.st, "t/acme/cg-pair/"); len(got) != 1 {
		t.Fatalf("pair keys: %v", got)
	}
	// A grant can no longer be created for the deleted client or audience.
	if _, err := f.r.CreateClientGrant(ctx, "acme", model.ClientGrant{ID: "cg_x", ClientID: "c1", Audience: "https://b.example/"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("grant for deleted client: %v", err)
	}
}

// TestDeleteClientRacingGrantCreation: grants created while the client is
// being deleted never outlive it.
func TestDeleteClientRacingGrantCreation(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	for i := range 20 {
		mustRS(t, f.r, "acme", fmt.Sprintf("rs%02d", i), fmt.Sprintf("https://api%02d/", i))
	}
	for round := range 10 {
		cid := fmt.Sprintf("c%d", round)
		mustClient(t, f.r, "acme", cid)
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 20 {
				_, err := f.r.CreateClientGrant(ctx, "acme", model.ClientGrant{ID: fmt.Sprintf("cg_%s_%d", cid, i), ClientID: cid, Audience: fmt.Sprintf("https://api%02d/", i)})
				if err != nil && !errors.Is(err, ErrNotFound) {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			if err := f.r.DeleteClient(ctx, "acme", cid); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		if keys := rawKeys(t, f.st, "t/acme/cg"); len(keys) != 0 {
			t.Fatalf("round %d: grant keys outlived the client: %v", round, keys)
		}
	}
}

func TestBatchIsAtomic(t *testing.T) {
	f := newFixture(t)
	mustTenant(t, f.r, "acme", "https://acme.example/")
	mustClient(t, f.r, "acme", "taken")

	b := f.r.NewBatch()
	if err := b.CreateResourceServer("acme", model.ResourceServer{ID: "rs1", Identifier: "https://api/"}); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateClient("acme", model.Client{ClientID: "fresh"}); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateClient("acme", model.Client{ClientID: "taken"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Commit(ctx, b); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("Commit = %v, want ErrDuplicate", err)
	}
	if _, err := f.r.GetClient(ctx, "acme", "fresh"); !errors.Is(err, ErrNotFound) {
		t.Fatal("a failed batch wrote part of itself")
	}
	if _, err := f.r.GetResourceServer(ctx, "acme", "rs1"); !errors.Is(err, ErrNotFound) {
		t.Fatal("a failed batch wrote part of itself")
	}

	// Records referring to each other within one batch.
	b = f.r.NewBatch()
	steps := []error{
		b.CreateTenant(model.Tenant{Name: "new", Internal: model.TenantInternal{Issuer: "https://new.example/"}}),
		b.CreateClientGrant("new", model.ClientGrant{ID: "cg_1", ClientID: "c", Audience: "https://new.example/api/v1/"}), // before its parents
		b.CreateClient("new", model.Client{ClientID: "c", ClientSecret: "s-0123456789abcdef"}),
		b.CreateResourceServer("new", model.ResourceServer{ID: "rs", Identifier: "https://new.example/api/v1/"}),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	idx, err := f.r.Commit(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	g, err := f.r.GetClientGrantByPair(ctx, "new", "c", "https://new.example/api/v1/")
	if err != nil || g.Version != idx {
		t.Fatalf("grant from batch: %+v %v", g, err)
	}
	// Writing one key twice in a batch is refused up front.
	b = f.r.NewBatch()
	_ = b.CreateClient("new", model.Client{ClientID: "twice"})
	if err := b.CreateClient("new", model.Client{ClientID: "twice"}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("same key twice: %v", err)
	}
}
