package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/valyala/fasthttp"

	"github.com/authok-edge/authok/shared/keys"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/tokens"
)

// Tenants resolves the tenant a request's Host names (case-insensitively);
// *directory.Directory is one.
type Tenants interface {
	TenantByHostBytes(host []byte) (model.Tenant, error)
}

// KeySource lists the keys a tenant publishes.
type KeySource interface {
	Published(tenant string) ([]keys.Key, error)
}

// Config wires a Handler.
type Config struct {
	Tenants Tenants
	Keys    KeySource
	Store   store.Store // its apply feed invalidates rendered documents
	Logger  *slog.Logger
}

// Handler serves the two discovery documents.
type Handler struct {
	cfg    Config
	docs   atomic.Pointer[map[string]*rendered] // tenant name -> documents
	epoch  atomic.Uint64                        // bumped by every drop, under mu
	mu     sync.Mutex                           // serialises rendering
	cancel func()
}

type rendered struct {
	jwks, config []byte
}

// New builds a Handler and subscribes it to the store's apply feed.
func New(cfg Config) (*Handler, error) {
	if cfg.Tenants == nil || cfg.Keys == nil || cfg.Store == nil {
		return nil, errors.New("discovery: Tenants, Keys and Store are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg}
	empty := map[string]*rendered{}
	h.docs.Store(&empty)
	h.cancel = cfg.Store.Subscribe(h.invalidate)
	return h, nil
}

// Close stops following the apply feed.
func (h *Handler) Close() { h.cancel() }

// invalidate drops what an applied transaction may have changed. It runs
// on the apply path, so it only swaps pointers.
func (h *Handler) invalidate(ev store.Event) {
	if ev.Reset {
		h.drop("")
		return
	}
	for _, k := range ev.Keys {
		switch {
		case bytes.HasPrefix(k, []byte("t/")):
			rest := k[2:]
			i := bytes.IndexByte(rest, '/')
			if i > 0 && bytes.HasPrefix(rest[i:], []byte("/key/")) {
				if name, err := url.PathUnescape(string(rest[:i])); err == nil {
					h.drop(name)
				}
			}
		case bytes.HasPrefix(k, []byte("tenant/")), bytes.HasPrefix(k, []byte("host/")):
			h.drop("") // issuer or host mapping changed: re-render everything
		}
	}
}

// drop removes one tenant's documents, or all with "".
func (h *Handler) drop(tenant string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Bump even when nothing is cached: a render in flight may be about to
	// store what this write changed (see documents).
	h.epoch.Add(1)
	cur := *h.docs.Load()
	if tenant == "" {
		if len(cur) == 0 {
			return
		}
		next := map[string]*rendered{}
		h.docs.Store(&next)
		return
	}
	if _, ok := cur[tenant]; !ok {
		return
	}
	next := make(map[string]*rendered, len(cur))
	for k, v := range cur {
		if k != tenant {
			next[k] = v
		}
	}
	h.docs.Store(&next)
}

// documents returns the tenant's rendered documents, rendering them once.
// epoch is h.epoch as read before t was resolved. If a drop happened
// since, t may predate that write: the result is still served, since this
// request overlapped the write, but not cached (as keys.Manager does).
// Re-resolving would only help this one request, at the cost of a retry loop.
func (h *Handler) documents(t model.Tenant, epoch uint64) (*rendered, error) {
	if r := (*h.docs.Load())[t.Name]; r != nil {
		return r, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	cur := *h.docs.Load()
	if r := cur[t.Name]; r != nil {
		return r, nil
	}
	r, err := render(t, h.cfg.Keys)
	if err != nil {
		return nil, err
	}
	if h.epoch.Load() != epoch {
		return r, nil
	}
	next := make(map[string]*rendered, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[t.Name] = r
	h.docs.Store(&next)
	return r, nil
}

func render(t model.Tenant, src KeySource) (*rendered, error) {
	published, err := src.Published(t.Name)
	if err != nil {
		return nil, fmt.Errorf("discovery: keys of %s: %w", t.Name, err)
	}
	jwks, err := keys.RenderJWKS(published)
	if err != nil {
		return nil, fmt.Errorf("discovery: render JWKS of %s: %w", t.Name, err)
	}
	config, err := json.Marshal(Metadata(t.Internal.Issuer))
	if err != nil {
		return nil, err
	}
	return &rendered{jwks: jwks, config: config}, nil
}

// ProviderMetadata is the subset of OpenID Provider Metadata (OpenID
// Connect Discovery 1.0 §3, RFC 8414) that is implemented today.
type ProviderMetadata struct {
	Issuer                                string   `json:"issuer"`
	TokenEndpoint                         string   `json:"token_endpoint"`
	JWKSURI                               string   `json:"jwks_uri"`
	GrantTypesSupported                   []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported     []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgsSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	AccessTokenSigningAlgValuesSupported  []string `json:"access_token_signing_alg_values_supported"`
	ResponseTypesSupported                []string `json:"response_types_supported"`
	SubjectTypesSupported                 []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported      []string `json:"id_token_signing_alg_values_supported"`
	CodeChallengeMethodsSupported         []string `json:"code_challenge_methods_supported,omitempty"`
	RequestParameterSupported             bool     `json:"request_parameter_supported"`
	ClaimsParameterSupported              bool     `json:"claims_parameter_supported"`
}

// Metadata describes what a tenant with issuer serves. Endpoints that do
// not exist yet (authorize, userinfo, revocation, ...) are left out rather
// than advertised.
func Metadata(issuer string) ProviderMetadata {
	algs := []string{string(tokens.RS256), string(tokens.PS256), string(tokens.ES256), string(tokens.EdDSA)}
	return ProviderMetadata{
		Issuer:                                issuer,
		TokenEndpoint:                         issuer + "oauth/token",
		JWKSURI:                               issuer + ".well-known/jwks.json",
		GrantTypesSupported:                   []string{"client_credentials"},
		TokenEndpointAuthMethodsSupported:     []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		TokenEndpointAuthSigningAlgsSupported: []string{"RS256", "PS256", "ES256", "EdDSA"},
		AccessTokenSigningAlgValuesSupported:  algs,
		// Required members of OpenID Provider Metadata (see the package
		// doc for why "none"); no ID token is issued yet.
		ResponseTypesSupported:           []string{"none"},
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: algs,
	}
}

// ServeJWKS answers GET /.well-known/jwks.json.
func (h *Handler) ServeJWKS(ctx *fasthttp.RequestCtx) { h.serve(ctx, true) }

// ServeConfiguration answers GET /.well-known/openid-configuration.
func (h *Handler) ServeConfiguration(ctx *fasthttp.RequestCtx) { h.serve(ctx, false) }

func (h *Handler) serve(ctx *fasthttp.RequestCtx, jwks bool) {
	// Read the epoch before the tenant: a write applied after this point
	// keeps a render from t out of the cache.
	epoch := h.epoch.Load()
	t, err := h.cfg.Tenants.TenantByHostBytes(ctx.Host())
	if err != nil {
		writeError(ctx, fasthttp.StatusNotFound, "unknown tenant")
		return
	}
	docs, err := h.documents(t, epoch)
	if err != nil {
		h.cfg.Logger.Error("discovery: render", "tenant", t.Name, "err", err)
		writeError(ctx, fasthttp.StatusInternalServerError, "the tenant's keys could not be read")
		return
	}
	body := docs.config
	if jwks {
		body = docs.jwks
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json; charset=utf-8")
	// Relying parties may cache briefly; rotation publishes the next key a
	// generation ahead, so a short cache never misses a signing key.
	ctx.Response.Header.Set("Cache-Control", "public, max-age=60")
	ctx.SetBody(body)
}

func writeError(ctx *fasthttp.RequestCtx, status int, desc string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	b, _ := json.Marshal(map[string]string{"error": "invalid_request", "error_description": desc})
	ctx.SetBody(b)
}
