package mgmtapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/authok-edge/authok/actions-runtime/action"
	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
)

// Prefixes the API is served under: /api/v1 (seed, SDK) and the backend's
// /api/v2 as an alias (API.md A.1, F.1).
var Prefixes = []string{"/api/v1", "/api/v2"}

// DefaultMaxBodyBytes caps a write's JSON body unless Config says
// otherwise. Configuration objects are small; the largest is a client with
// an inline JWKS and a form template.
const DefaultMaxBodyBytes = 256 << 10

// TokenVerifier checks a Management API access token: signature against
// the tenant's own published keys (never keys found through the token's
// iss), iss == issuer, aud ∩ audiences ≠ ∅, exp/nbf. It returns the
// claims. *keys.Manager implements it.
type TokenVerifier interface {
	Verify(tenant, token, issuer string, audiences []string) (map[string]any, error)
}

// TenantResolver returns the tenant a request's Host names; errors
// wrapping repo.ErrNotFound become 404. ResolveTenant over the repository
// is the default.
type TenantResolver func(ctx context.Context, host string) (model.Tenant, error)

// SigningKey is what the signing-key endpoints return: the public face of
// a key (never private material) and its algorithm.
type SigningKey struct {
	model.SigningKey
	Alg string `json:"alg,omitempty"`
}

// SigningKeys manages a tenant's signing keys (API.md C.14, E.4). Errors
// wrapping ErrKeyNotFound give 404 and ErrKeyInvalid 400.
// KeysFromManager adapts *keys.Manager.
type SigningKeys interface {
	List(tenant string) ([]SigningKey, error)
	Get(tenant, kid string) (SigningKey, error)
	Rotate(ctx context.Context, tenant string) ([]SigningKey, error)
	Revoke(ctx context.Context, tenant, kid string) (SigningKey, error)
}

// Config wires an API.
type Config struct {
	// Repo is the typed store access (required).
	Repo *repo.Repo
	// Verifier checks bearer tokens (required).
	Verifier TokenVerifier
	// Keys serves /keys/signing (required).
	Keys SigningKeys
	// Tenants resolves the request's tenant; nil means ResolveTenant over
	// Repo.
	Tenants TenantResolver
	// Now stamps created_at and updated_at; nil means time.Now.
	Now func() time.Time
	// Rand generates ids and secrets; nil means crypto/rand.Reader.
	Rand io.Reader
	// Logger receives 5xx causes; nil means slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes caps a JSON body (413 beyond); 0 means
	// DefaultMaxBodyBytes. The server's own limit still applies.
	MaxBodyBytes int64
	// Runner checks action code on create, update and deploy and runs
	// POST .../test; the node-side executor implements it. nil: drafts
	// are stored unchecked, and deploy and test answer 501.
	Runner action.Runner
	// MaxModuleBytes caps an action's WebAssembly module (413 beyond); 0
	// means DefaultMaxModuleBytes. The server's own body limit must fit
	// it (4/3 of it for base64 in JSON).
	MaxModuleBytes int
}

// Validate reports every missing or bad setting at once.
func (c Config) Validate() error {
	var errs []error
	if c.Repo == nil {
		errs = append(errs, errors.New("mgmtapi: Repo is required"))
	}
	if c.Verifier == nil {
		errs = append(errs, errors.New("mgmtapi: Verifier is required"))
	}
	if c.Keys == nil {
		errs = append(errs, errors.New("mgmtapi: Keys is required"))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("mgmtapi: MaxBodyBytes %d is negative", c.MaxBodyBytes))
	}
	if c.MaxModuleBytes < 0 {
		errs = append(errs, fmt.Errorf("mgmtapi: MaxModuleBytes %d is negative", c.MaxModuleBytes))
	}
	return errors.Join(errs...)
}

// API is the Management API. Its methods are safe for concurrent use.
type API struct {
	cfg    Config
	routes []route
}

// New checks cfg and builds the API.
func New(cfg Config) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Tenants == nil {
		r := cfg.Repo
		cfg.Tenants = func(ctx context.Context, host string) (model.Tenant, error) {
			return ResolveTenant(ctx, r, host)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxModuleBytes == 0 {
		cfg.MaxModuleBytes = DefaultMaxModuleBytes
	}
	a := &API{cfg: cfg}
	a.routes = a.table()
	return a, nil
}

// Register mounts every route under each of Prefixes with mount, which
// takes a Go 1.22 http.ServeMux pattern ("GET /api/v1/clients/{id}"):
// pass control/server's (*Server).Handle so each route gets its own
// metrics label and the server's JSON 404/405 covers the rest.
func (a *API) Register(mount func(pattern string, h http.Handler)) {
	for _, p := range Prefixes {
		for _, rt := range a.routes {
			mount(rt.method+" "+p+rt.path, a.handler(rt))
		}
	}
}

// route is one operation. scopes nil means public: no tenant, no token.
type route struct {
	method, path string
	scopes       []string
	serve        func(*call) error
}

// call is one authenticated request.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	tenant model.Tenant
	scopes []string // every scope the token holds
}

func (c *call) ctx() context.Context { return c.r.Context() }

// holds reports whether the request's token holds scope.
func (c *call) holds(scope string) bool { return slices.Contains(c.scopes, scope) }

// handler runs the shared phases of every route: tenant, authentication,
// scopes, then the operation; an error is rendered as API.md A.4.
func (a *API) handler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r}
		err := func() error {
			if rt.scopes == nil {
				return rt.serve(c)
			}
			t, err := a.cfg.Tenants(r.Context(), r.Host)
			if errors.Is(err, repo.ErrNotFound) {
				return rest.NotFound(codeInexistentTenant, "No tenant is served on this host.")
			}
			if err != nil {
				return fmt.Errorf("mgmtapi: resolve tenant of %q: %w", r.Host, err)
			}
			c.tenant = t
			if c.scopes, err = a.authorize(w, r, t, rt.scopes); err != nil {
				return err
			}
			return rt.serve(c)
		}()
		if err != nil {
			a.fail(w, r, err)
		}
	})
}

// fail renders err; causes of 5xx are logged, never sent.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apierror.Error
	if !errors.As(err, &ae) || ae.Status >= 500 {
		a.cfg.Logger.Error("mgmtapi: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	apierror.Write(w, err)
}

func (a *API) now() model.Time { return model.NewTime(a.cfg.Now()) }
