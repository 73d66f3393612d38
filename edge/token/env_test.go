package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/authok-edge/authok/edge/server"
	"github.com/authok-edge/authok/shared/directory"
	"github.com/authok-edge/authok/shared/keys"
	"github.com/authok-edge/authok/shared/logship"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/store"
)

// The fixtures every test shares: one tenant, one API, and one client per
// authentication method.
const (
	tenantName = "acme"
	apiThings  = "https://api.test/things"
	apiOther   = "https://api.test/other" // an API nobody has a grant for

	postID     = "post-client"
	postSecret = "post-secret-0123456789abcdef"
	// Basic credentials that need form-urlencoding (RFC 6749 §2.3.1).
	basicID     = "basic client:é+/%"
	basicSecret = "s3cr3t:+ %&=é/?"
	jwtID       = "jwt-client"
	noCCID      = "no-cc-client" // lacks client_credentials in grant_types
	noGrantID   = "no-grant-client"
	publicID    = "public-client"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// countingSource counts the store reads of the directory's caches.
type countingSource struct {
	store.Store
	gets atomic.Int64
}

func (c *countingSource) Get(key []byte) (store.Item, error) {
	c.gets.Add(1)
	return c.Store.Get(key)
}

// countingApplier counts the handler's store writes.
type countingApplier struct {
	store.Store
	applies atomic.Int64
}

func (c *countingApplier) Apply(ctx context.Context, t store.Txn) (store.Result, error) {
	c.applies.Add(1)
	return c.Store.Apply(ctx, t)
}

type env struct {
	t       testing.TB
	st      store.Store
	repo    *repo.Repo
	keys    *keys.Manager
	dir     *directory.Directory
	logs    *logship.Shipper
	src     *countingSource
	applier *countingApplier
	h       *Handler

	issuer   string
	tokenURL string
	host     string

	// The private keys of jwtID's registered JWKS.
	ecKey  *ecdsa.PrivateKey
	rsaKey *rsa.PrivateKey
	edKey  ed25519.PrivateKey
}

type envOptions struct {
	listen bool   // serve on 127.0.0.1 through edge/server
	host   string // the tenant's host when not listening
	alg    string // the API's signing_alg
	store  store.Store
	dirSrc store.Store // the store the directory reads (an edge's)
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t}
	var ln net.Listener
	if o.listen {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		e.host = ln.Addr().String()
		e.issuer = "http://" + e.host + "/"
	} else {
		e.host = o.host
		if e.host == "" {
			e.host = "acme.test"
		}
		e.issuer = "https://" + e.host + "/"
	}
	e.tokenURL = e.issuer + "oauth/token"

	e.st = o.store
	if e.st == nil {
		st, err := store.OpenLocalWith(t.TempDir(), store.LocalOptions{ReapInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		e.st = st
	}
	box := testBox
	var err error
	if e.repo, err = repo.New(e.st, box); err != nil {
		t.Fatal(err)
	}
	e.seed(ctx, o.alg)

	dirSrc := o.dirSrc
	if dirSrc == nil {
		dirSrc = e.st
	}
	e.keys = keys.New(dirSrc, box)
	t.Cleanup(func() { e.keys.Close() })
	e.src = &countingSource{Store: dirSrc}
	dirRepo, err := repo.New(dirSrc, box)
	if err != nil {
		t.Fatal(err)
	}
	if e.dir, err = directory.New(directory.Config{Store: e.src, Repo: dirRepo, Signers: e.keys}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.dir.Close)
	if e.logs, err = logship.New(logship.Config{Store: dirSrc, Capacity: 1 << 12, Logger: discard}); err != nil {
		t.Fatal(err)
	}
	e.applier = &countingApplier{Store: dirSrc}
	if e.h, err = New(Config{Directory: e.dir, Store: e.applier, Logs: e.logs, Logger: discard}); err != nil {
		t.Fatal(err)
	}
	if ln != nil {
		srv, err := server.New(server.Config{ControlHandler: http.NotFoundHandler(), Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		srv.Handle("POST", "/oauth/token", e.h.Serve)
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Shutdown(context.Background()) })
	}
	return e
}

// testBox is one master key for every test (generating is cheap, but one
// key keeps failures reproducible across envs that share a store).
var testBox = func() secretbox.Key {
	k, err := secretbox.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	return k
}()

// seed creates the tenant, its keys, the APIs, the clients and the grants.
func (e *env) seed(ctx context.Context, alg string) {
	t := e.t
	if _, err := e.repo.CreateTenant(ctx, model.Tenant{Name: tenantName, Internal: model.TenantInternal{Issuer: e.issuer}}); err != nil {
		t.Fatal(err)
	}
	km := keys.New(e.st, testBox)
	defer km.Close()
	if err := km.Ensure(ctx, tenantName); err != nil {
		t.Fatal(err)
	}
	scopes := []model.ResourceServerScope{{Value: "read:things"}, {Value: "write:things"}, {Value: "delete:things"}}
	for _, rs := range []model.ResourceServer{
		{ID: "rs-things", Name: "Things", Identifier: apiThings, Scopes: scopes, SigningAlg: alg, TokenLifetime: 3600},
		{ID: "rs-other", Name: "Other", Identifier: apiOther, SigningAlg: alg},
	} {
		if _, err := e.repo.CreateResourceServer(ctx, tenantName, rs); err != nil {
			t.Fatal(err)
		}
	}

	var err error
	e.ecKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e.rsaKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	_, e.edKey, _ = ed25519.GenerateKey(rand.Reader)
	jwks := &model.JWKS{}
	for kid, priv := range map[string]any{"ec-1": e.ecKey, "rsa-1": e.rsaKey, "ed-1": e.edKey} {
		k, err := jwk.FromRaw(priv)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		pub.Set(jwk.KeyIDKey, kid)
		if kid == "rsa-1" {
			pub.Set(jwk.AlgorithmKey, jwa.PS256) // this key may only sign PS256
		}
		raw, _ := json.Marshal(pub)
		jwks.Keys = append(jwks.Keys, raw)
	}

	cc := []string{model.GrantTypeClientCredentials}
	for _, c := range []model.Client{
		{ClientID: postID, ClientSecret: postSecret, Name: "Post machine", GrantTypes: cc, TokenEndpointAuthMethod: model.AuthMethodClientSecretPost},
		{ClientID: basicID, ClientSecret: basicSecret, Name: "Basic machine", GrantTypes: cc, TokenEndpointAuthMethod: model.AuthMethodClientSecretBasic},
		{ClientID: jwtID, Name: "JWT machine", GrantTypes: cc, TokenEndpointAuthMethod: model.AuthMethodPrivateKeyJWT, JWKS: jwks},
		{ClientID: noCCID, ClientSecret: postSecret, Name: "Web app", GrantTypes: []string{model.GrantTypeAuthorizationCode}, TokenEndpointAuthMethod: model.AuthMethodClientSecretPost},
		{ClientID: noGrantID, ClientSecret: postSecret, Name: "Ungranted machine", GrantTypes: cc, TokenEndpointAuthMethod: model.AuthMethodClientSecretPost},
		{ClientID: publicID, Name: "SPA", GrantTypes: cc, TokenEndpointAuthMethod: model.AuthMethodNone},
	} {
		if _, err = e.repo.CreateClient(ctx, tenantName, c); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{postID, basicID, jwtID, noCCID, publicID} {
		g := model.ClientGrant{ID: "cg_" + string(rune('a'+i)), ClientID: id, Audience: apiThings, Scope: []string{"read:things", "write:things"}}
		if _, err = e.repo.CreateClientGrant(ctx, tenantName, g); err != nil {
			t.Fatal(err)
		}
	}
}

// response is a decoded token endpoint answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(k string) string { s, _ := r.body[k].(string); return s }

// do posts to the token endpoint with raw net/http.
func (e *env) do(contentType, body string, edit func(*http.Request)) response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.tokenURL, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		e.t.Fatalf("body is not JSON (%d): %q", resp.StatusCode, raw)
	}
	return out
}

func (e *env) form(v url.Values, edit func(*http.Request)) response {
	e.t.Helper()
	return e.do("application/x-www-form-urlencoded", v.Encode(), edit)
}

// postForm is a client_secret_post request of postID for apiThings.
func postForm(extra ...string) url.Values {
	v := url.Values{"grant_type": {"client_credentials"}, "client_id": {postID}, "client_secret": {postSecret}, "audience": {apiThings}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// assertion builds a client assertion of jwtID signed with key under alg.
type assertionSpec struct {
	alg      jwa.SignatureAlgorithm
	key      any
	kid      string
	iss, sub string
	aud      []string
	exp      time.Duration // from now; 0 leaves exp out
	jti      string
}

func (e *env) assertion(s assertionSpec) string {
	e.t.Helper()
	if s.alg == "" {
		s.alg, s.key, s.kid = jwa.ES256, e.ecKey, "ec-1"
	}
	if s.iss == "" {
		s.iss = jwtID
	}
	if s.sub == "" {
		s.sub = s.iss
	}
	if s.aud == nil {
		s.aud = []string{e.tokenURL}
	}
	if s.jti == "" {
		s.jti = rand.Text()
	}
	now := time.Now()
	b := jwt.NewBuilder().Issuer(s.iss).Subject(s.sub).Audience(s.aud).IssuedAt(now).JwtID(s.jti)
	if s.exp != 0 {
		b = b.Expiration(now.Add(s.exp))
	}
	tok, err := b.Build()
	if err != nil {
		e.t.Fatal(err)
	}
	var signKey any = s.key
	if s.kid != "" {
		k, err := jwk.FromRaw(s.key)
		if err != nil {
			e.t.Fatal(err)
		}
		k.Set(jwk.KeyIDKey, s.kid)
		signKey = k
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(s.alg, signKey))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(signed)
}

func jwtForm(assertion string) url.Values {
	return url.Values{
		"grant_type": {"client_credentials"}, "audience": {apiThings},
		"client_assertion_type": {AssertionTypeJWTBearer}, "client_assertion": {assertion},
	}
}

// verify checks token against the tenant's published JWKS (as
// keys.RenderJWKS renders it) and returns its claims.
func (e *env) verify(token, audience string) map[string]any {
	e.t.Helper()
	return e.verifyWith(e.keySet(), token, audience)
}

// keySet is the tenant's JWKS as relying parties fetch it.
func (e *env) keySet() jwk.Set {
	e.t.Helper()
	pub, err := e.keys.Published(tenantName)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, err := keys.RenderJWKS(pub)
	if err != nil {
		e.t.Fatal(err)
	}
	set, err := jwk.Parse(raw)
	if err != nil {
		e.t.Fatal(err)
	}
	return set
}

func (e *env) verifyWith(set jwk.Set, token, audience string) map[string]any {
	e.t.Helper()
	tok, err := jwt.Parse([]byte(token), jwt.WithKeySet(set), jwt.WithIssuer(e.issuer), jwt.WithAudience(audience), jwt.WithValidate(true))
	if err != nil {
		e.t.Fatalf("the issued token does not verify against the JWKS: %v", err)
	}
	claims, err := tok.AsMap(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return claims
}
