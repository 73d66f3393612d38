package directory

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/authok-edge/authok/shared/cache"
	"github.com/authok-edge/authok/shared/keys"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/tokens"
)

// ErrNotFound is returned (unwrapped, so a miss costs no allocation) when
// the tenant, client, resource server or grant does not exist.
var ErrNotFound = errors.New("directory: not found")

// DefaultTenant is the tenant TenantByHost answers with when no tenant has
// the request's host.
const DefaultTenant = "default"

// MaxHostLength is the longest host name TenantByHost looks up, in bytes
// and without a port: a DNS name has at most 255 (RFC 1035 §2.3.4).
const MaxHostLength = 255

// maxPortSuffix is the longest ":port" a Host header may add.
const maxPortSuffix = len(":65535")

// SignerSource builds a tenant's current signer; *keys.Manager is one.
type SignerSource interface {
	Signer(tenant string, alg tokens.Alg) (*tokens.Signer, error)
}

// Config configures a Directory.
type Config struct {
	// Store is read on a miss and its apply feed invalidates the caches:
	// the local store (store.Local or store.Node). Required.
	Store cache.Source
	// Repo decodes records (and opens their secrets). Required.
	Repo *repo.Repo
	// Signers builds signers on a Signer miss: the keys.Manager. Required
	// only for Signer.
	Signers SignerSource
	// KeyPrefix is the store prefix of a tenant's keys; a write under it
	// drops the tenant's signers. Default keys.KeyPrefix.
	KeyPrefix func(tenant string) []byte
	// DefaultTenant is the fallback of TenantByHost; default DefaultTenant.
	// "-" disables the fallback.
	DefaultTenant string
	// MaxBytes bounds each of the caches, in bytes as cache.EntryCost
	// estimates them (a cached miss included); default
	// cache.DefaultMaxCost.
	MaxBytes int64
	// Registerer receives the caches' metrics; nil leaves them
	// unregistered.
	Registerer prometheus.Registerer
	// Now is the store's clock (for expiring items); default time.Now.
	Now func() time.Time
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("directory: Config.Store is required"))
	}
	if c.Repo == nil {
		errs = append(errs, errors.New("directory: Config.Repo is required"))
	}
	if c.MaxBytes < 0 {
		errs = append(errs, errors.New("directory: Config.MaxBytes is negative"))
	}
	return errors.Join(errs...)
}

// Directory is the cached read model. It is safe for concurrent use.
type Directory struct {
	defaultTenant string

	index   *cache.Cache[string] // every unique index key -> the id it names
	tenants *cache.Cache[*tenantEntry]
	clients *cache.Cache[*Client]
	rs      *cache.Cache[*model.ResourceServer]
	grants  *cache.Cache[*ClientGrant]
	signers *signerCache
	closers []func()
}

type tenantEntry struct {
	t    model.Tenant
	host string // repo.HostOf(issuer)
}

// Client is a client as the token endpoint needs it: the model with its
// secret open, and its registered keys parsed once. Shared: read-only.
type Client struct {
	model.Client
	// Keys is the client's registered JWKS (private_key_jwt), parsed; nil
	// when it has none.
	Keys jwk.Set
	// KeysErr says why the registered JWKS did not parse (Keys is then
	// nil). The Management API validates a JWKS before storing it, so this
	// is for records written around it.
	KeysErr error

	secret []byte
}

// SecretEqual reports, in constant time, whether secret is the client's
// secret. A client without a secret matches nothing.
func (c *Client) SecretEqual(secret []byte) bool {
	if len(c.secret) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(secret, c.secret) == 1
}

// AllowsGrantType reports whether the client lists the grant type gt
// (canonical spelling) in grant_types.
func (c *Client) AllowsGrantType(gt string) bool { return slices.Contains(c.GrantTypes, gt) }

// ClientGrant is a client grant with its scopes joined once. Shared:
// read-only.
type ClientGrant struct {
	model.ClientGrant
	// ScopeString is Scope joined by spaces: the scope claim of a token
	// for which no narrower scope was requested.
	ScopeString string
}

// New builds a Directory and subscribes its caches to the store's apply
// feed. Close releases them.
func New(cfg Config) (*Directory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.KeyPrefix == nil {
		cfg.KeyPrefix = keys.KeyPrefix
	}
	if cfg.DefaultTenant == "" {
		cfg.DefaultTenant = DefaultTenant
	} else if cfg.DefaultTenant == "-" {
		cfg.DefaultTenant = ""
	}
	d := &Directory{defaultTenant: cfg.DefaultTenant}
	opts := func(name string) cache.Options {
		return cache.Options{Name: name, MaxCost: cfg.MaxBytes, Registerer: cfg.Registerer, Now: cfg.Now}
	}
	r := cfg.Repo
	var err error
	if d.index, err = newCache(d, cfg.Store, opts("directory_index"), func(it store.Item) (string, error) {
		return repo.DecodeIndex(it), nil
	}); err != nil {
		return nil, err
	}
	if d.tenants, err = newCache(d, cfg.Store, opts("directory_tenant"), func(it store.Item) (*tenantEntry, error) {
		t, err := r.DecodeTenant(it)
		if err != nil {
			return nil, err
		}
		host, err := repo.HostOf(t.Internal.Issuer)
		if err != nil {
			return nil, err
		}
		return &tenantEntry{t: t, host: host}, nil
	}); err != nil {
		return nil, err
	}
	if d.clients, err = newCache(d, cfg.Store, opts("directory_client"), func(it store.Item) (*Client, error) {
		c, err := r.DecodeClient(it)
		if err != nil {
			return nil, err
		}
		return newClient(c), nil
	}); err != nil {
		return nil, err
	}
	if d.rs, err = newCache(d, cfg.Store, opts("directory_resource_server"), func(it store.Item) (*model.ResourceServer, error) {
		rs, err := r.DecodeResourceServer(it)
		return &rs, err
	}); err != nil {
		return nil, err
	}
	if d.grants, err = newCache(d, cfg.Store, opts("directory_client_grant"), func(it store.Item) (*ClientGrant, error) {
		g, err := r.DecodeClientGrant(it)
		if err != nil {
			return nil, err
		}
		return &ClientGrant{ClientGrant: g, ScopeString: strings.Join(g.Scope, " ")}, nil
	}); err != nil {
		return nil, err
	}
	d.signers = newSignerCache(cfg.Signers, cfg.KeyPrefix)
	d.closers = append(d.closers, cfg.Store.Subscribe(d.signers.apply))
	return d, nil
}

// newCache builds one cache and registers its Close with d; on error it
// closes what d already holds.
func newCache[T any](d *Directory, src cache.Source, opts cache.Options, decode func(store.Item) (T, error)) (*cache.Cache[T], error) {
	c, err := cache.New(src, decode, opts)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("directory: %w", err)
	}
	d.closers = append(d.closers, c.Close)
	return c, nil
}

func newClient(c model.Client) *Client {
	out := &Client{Client: c, secret: []byte(c.ClientSecret.Reveal())}
	if c.JWKS != nil && len(c.JWKS.Keys) > 0 {
		raw, err := json.Marshal(c.JWKS)
		if err == nil {
			out.Keys, err = jwk.Parse(raw)
		}
		if err != nil {
			out.Keys, out.KeysErr = nil, fmt.Errorf("directory: jwks of client %q: %w", c.ClientID, err)
		}
	}
	return out
}

// Close unsubscribes the caches from the feed and frees them. It must not
// run concurrently with lookups.
func (d *Directory) Close() {
	for _, c := range d.closers {
		c()
	}
	d.closers = nil
}

// keyBuf is a pooled buffer a lookup builds its keys in; the cache copies
// a key it keeps, so the buffer goes back to the pool when the lookup ends.
type keyBuf struct{ b []byte }

var keyBufs = sync.Pool{New: func() any { return &keyBuf{b: make([]byte, 0, 256)} }}

func getBuf() *keyBuf { return keyBufs.Get().(*keyBuf) }

func putBuf(k *keyBuf) {
	if cap(k.b) <= 4096 {
		keyBufs.Put(k)
	}
}

// TenantByHost returns the tenant served on host (a Host header value,
// compared case-insensitively, a trailing dot ignored, the scheme's default
// port tolerated), or the default tenant when no tenant has that host (see
// the package doc). The result is a copy.
func (d *Directory) TenantByHost(host string) (model.Tenant, error) {
	return tenantByHost(d, host)
}

// TenantByHostBytes is TenantByHost for a host held in bytes (fasthttp's
// ctx.Host()); it does not keep host.
func (d *Directory) TenantByHostBytes(host []byte) (model.Tenant, error) {
	return tenantByHost(d, host)
}

func tenantByHost[S ~string | ~[]byte](d *Directory, host S) (model.Tenant, error) {
	if hostTooLong(host) {
		// No tenant has it, and the default tenant does not answer it: it
		// is refused before any lookup, so it is never cached.
		return model.Tenant{}, ErrNotFound
	}
	kb := getBuf()
	defer putBuf(kb)
	kb.b = repo.AppendNormalizedHost(kb.b[:0], host)
	norm := kb.b
	te, err := d.tenantOfHost(norm)
	if errors.Is(err, ErrNotFound) {
		// The index holds hosts without the scheme's default port, which
		// a Host header may carry.
		for _, port := range [...]string{":443", ":80"} {
			if trimmed, ok := bytes.CutSuffix(norm, []byte(port)); ok && len(trimmed) > 0 {
				te, err = d.tenantOfHost(trimmed)
				break
			}
		}
	}
	if errors.Is(err, ErrNotFound) && d.defaultTenant != "" {
		te, err = d.tenant(d.defaultTenant)
	}
	if err != nil {
		return model.Tenant{}, err
	}
	return te.t, nil
}

// hostTooLong reports whether a Host header value names a host longer than
// MaxHostLength, or carries more than a port after it.
func hostTooLong[S ~string | ~[]byte](host S) bool {
	n := len(host)
	if n <= MaxHostLength {
		return false
	}
	if n > MaxHostLength+maxPortSuffix {
		return true
	}
	// Only a port may take it over the limit: the name ends at the last
	// ':' (an IPv6 literal is far shorter than the limit).
	for i := n - 1; i >= n-maxPortSuffix; i-- {
		if host[i] == ':' {
			return i > MaxHostLength
		}
	}
	return true
}

// tenantOfHost follows the host index; host is normalised.
func (d *Directory) tenantOfHost(host []byte) (*tenantEntry, error) {
	kb := getBuf()
	defer putBuf(kb)
	kb.b = repo.AppendHostKey(kb.b[:0], host)
	name, err := d.index.Get(kb.b)
	if err != nil {
		return nil, notFound(err)
	}
	te, err := d.tenant(name)
	if err != nil {
		return nil, err
	}
	if te.host != string(host) {
		// The index and the record were read on either side of a write
		// that moved the host; that write dropped the index entry, so the
		// next lookup is consistent.
		return nil, ErrNotFound
	}
	return te, nil
}

func (d *Directory) tenant(name string) (*tenantEntry, error) {
	kb := getBuf()
	defer putBuf(kb)
	kb.b = repo.AppendTenantKey(kb.b[:0], name)
	te, err := d.tenants.Get(kb.b)
	if err != nil {
		return nil, notFound(err)
	}
	return te, nil
}

// Tenant returns the tenant called name. The result is a copy.
func (d *Directory) Tenant(name string) (model.Tenant, error) {
	te, err := d.tenant(name)
	if err != nil {
		return model.Tenant{}, err
	}
	return te.t, nil
}

// Client returns a tenant's client with its secret open. The result is
// shared: do not modify it. A client_id longer than model.MaxClientIDLength
// cannot exist and is refused before any lookup, so it is never cached.
func (d *Directory) Client(tenant, clientID string) (*Client, error) {
	if clientID == "" || len(clientID) > model.MaxClientIDLength {
		return nil, ErrNotFound
	}
	kb := getBuf()
	defer putBuf(kb)
	kb.b = repo.AppendClientKey(kb.b[:0], tenant, clientID)
	c, err := d.clients.Get(kb.b)
	if err != nil {
		return nil, notFound(err)
	}
	return c, nil
}

// ResourceServerByIdentifier returns the tenant's resource server whose
// identifier (audience) is exactly identifier. Callers normalise audience
// spellings first. The result is shared: do not modify it.
func (d *Directory) ResourceServerByIdentifier(tenant, identifier string) (*model.ResourceServer, error) {
	if identifier == "" {
		return nil, ErrNotFound
	}
	kb := getBuf()
	defer putBuf(kb)
	kb.b = repo.AppendResourceServerIdentifierKey(kb.b[:0], tenant, identifier)
	id, err := d.index.Get(kb.b)
	if err != nil {
		return nil, notFound(err)
	}
	kb.b = repo.AppendResourceServerKey(kb.b[:0], tenant, id)
	rs, err := d.rs.Get(kb.b)
	if err != nil {
		return nil, notFound(err)
	}
	if rs.Identifier != identifier {
		return nil, ErrNotFound // see tenantByHostKey
	}
	return rs, nil
}

// ClientGrant returns the grant of clientID for audience. The result is
// shared: do not modify it.
func (d *Directory) ClientGrant(tenant, clientID, audience string) (*ClientGrant, error) {
	if clientID == "" || audience == "" {
		return nil, ErrNotFound
	}
	kb := getBuf()
	defer putBuf(kb)
	kb.b = repo.AppendClientGrantPairKey(kb.b[:0], tenant, clientID, audience)
	id, err := d.index.Get(kb.b)
	if err != nil {
		return nil, notFound(err)
	}
	kb.b = repo.AppendClientGrantKey(kb.b[:0], tenant, id)
	g, err := d.grants.Get(kb.b)
	if err != nil {
		return nil, notFound(err)
	}
	if g.ClientID != clientID || g.Audience != audience {
		return nil, ErrNotFound
	}
	return g, nil
}

// Signer returns the tenant's current signer for alg, building it once per
// key generation. The result is shared.
func (d *Directory) Signer(tenant string, alg tokens.Alg) (*tokens.Signer, error) {
	return d.signers.get(tenant, alg)
}

// notFound maps the cache's not-found (store.ErrNotFound) to ErrNotFound
// and passes real errors through.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return fmt.Errorf("directory: %w", err)
}

// Stats are the directory's cache counters.
type Stats struct {
	Index, Tenants, Clients, ResourceServers, ClientGrants cache.Stats
	// SignerHits and SignerMisses count Signer lookups; a miss calls the
	// SignerSource.
	SignerHits, SignerMisses uint64
}

// Stats returns the counters; cheap enough for tests and benchmarks.
func (d *Directory) Stats() Stats {
	return Stats{
		Index:           d.index.Stats(),
		Tenants:         d.tenants.Stats(),
		Clients:         d.clients.Stats(),
		ResourceServers: d.rs.Stats(),
		ClientGrants:    d.grants.Stats(),
		SignerHits:      d.signers.hits.Load(),
		SignerMisses:    d.signers.misses.Load(),
	}
}
