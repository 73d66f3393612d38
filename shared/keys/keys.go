package keys

import (
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/tokens"
)

// Key is a signing key's public face: the C.14 fields, its algorithm and
// its public key. It carries no private material; marshalled to JSON it is
// the C.14 object plus "alg" (which tells apart the four keys of a
// generation).
type Key struct {
	model.SigningKey
	Alg        tokens.Alg       `json:"alg"`
	Generation uint64           `json:"-"` // keys made together share it; higher is newer
	Public     crypto.PublicKey `json:"-"`
}

// Status is "current", "next", "previous", "revoked" or "" (retired).
func (k Key) Status() string {
	switch {
	case k.Revoked:
		return "revoked"
	case k.Current:
		return "current"
	case k.Next:
		return "next"
	case k.Previous:
		return "previous"
	}
	return ""
}

// published reports whether relying parties may see and trust k.
func (k Key) published() bool { return !k.Revoked && (k.Current || k.Next || k.Previous) }

// Errors, usable with errors.Is; returned errors wrap them with details.
var (
	// ErrNotFound: no such key, no current key, or no such tenant.
	ErrNotFound = errors.New("keys: not found")
	// ErrInvalid: the request breaks a rule (revoking a current key), or a
	// token failed verification.
	ErrInvalid = errors.New("keys: invalid")
	// ErrAlreadyRevoked (which is also ErrInvalid): Revoke of a revoked key.
	ErrAlreadyRevoked = fmt.Errorf("%w: signing key already revoked", ErrInvalid)
	// ErrConflict: concurrent key changes kept invalidating this one.
	ErrConflict = errors.New("keys: conflicting concurrent change")
)

// Retained is how many generations a tenant keeps; Rotate deletes older
// ones.
const Retained = 9

// CertValidity is the validity of a key's self-signed certificate.
const CertValidity = 10 * 365 * 24 * time.Hour

// DefaultMaxAttempts is how many times Rotate, Ensure and Revoke plan
// again after a concurrent change before giving up with ErrConflict.
const DefaultMaxAttempts = 16

// Option configures a Manager.
type Option func(*Manager)

// WithClock sets the clock of every timestamp (current_since, revoked_at,
// certificate validity) and of Verify's expiry checks. Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(m *Manager) {
		if now != nil {
			m.now = now
		}
	}
}

// WithRand sets the randomness of kids, certificate serials and key
// generation (see the package doc for what Go 1.26 does with it). Default
// crypto/rand.Reader. Never pass math/rand outside tests. The Manager
// serialises its reads, so r need not be safe for concurrent use.
func WithRand(r io.Reader) Option {
	return func(m *Manager) {
		if r != nil {
			m.rand = &lockedReader{r: r}
		}
	}
}

// WithMaxAttempts bounds how many times a change is planned again after a
// concurrent one. Default DefaultMaxAttempts.
func WithMaxAttempts(n int) Option {
	return func(m *Manager) {
		if n > 0 {
			m.maxAttempts = n
		}
	}
}

type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// Manager manages the signing keys of every tenant of a store. It is safe
// for concurrent use.
type Manager struct {
	st          store.Store
	repo        *repo.Repo
	err         error // a construction error, reported by every method
	now         func() time.Time
	rand        io.Reader
	maxAttempts int

	mu    sync.RWMutex
	epoch uint64            // bumped by every invalidation; guarded by mu
	cache map[string]*entry // by tenant; guarded by mu

	unsubscribe func()
	closeOnce   sync.Once
}

// entry is a tenant's cached state. view is immutable; signers fill in
// lazily under Manager.mu.
type entry struct {
	view    *view
	signers [len(tokens.Algs)]*tokens.Signer
}

// New returns a Manager over st that seals private keys with box. A nil
// store or a zero key is reported by every method. Call Close when done.
func New(st store.Store, box secretbox.Key, opts ...Option) *Manager {
	m := &Manager{
		st: st, now: time.Now, rand: rand.Reader, maxAttempts: DefaultMaxAttempts,
		cache: map[string]*entry{},
	}
	for _, o := range opts {
		o(m)
	}
	m.repo, m.err = repo.New(st, box, repo.WithClock(m.now))
	if m.err != nil {
		m.err = fmt.Errorf("keys: %w", m.err)
		return m
	}
	m.unsubscribe = st.Subscribe(m.onApply)
	return m
}

// Close stops following the store's apply feed. The Manager must not be
// used afterwards.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		if m.unsubscribe != nil {
			m.unsubscribe()
		}
	})
	return nil
}

// KeyPrefix is the store prefix under which tenant's key records live. A
// transaction that changes the tenant's keys writes under it.
func KeyPrefix(tenant string) []byte { return repo.SigningKeyPrefix(tenant) }

// onApply drops the cached state of every tenant whose keys a transaction
// touched. It runs synchronously in the store's apply path.
func (m *Manager) onApply(ev store.Event) {
	if ev.Reset {
		m.mu.Lock()
		m.epoch++
		clear(m.cache)
		m.mu.Unlock()
		return
	}
	locked := false
	for _, k := range ev.Keys {
		tenant, ok := repo.SigningKeyTenant(k)
		if !ok {
			continue
		}
		if !locked {
			m.mu.Lock()
			m.epoch++
			locked = true
		}
		delete(m.cache, tenant)
	}
	if locked {
		m.mu.Unlock()
	}
}

// entryFor returns tenant's cached entry, loading it on a miss.
func (m *Manager) entryFor(tenant string) (*entry, error) {
	if m.err != nil {
		return nil, m.err
	}
	m.mu.RLock()
	e, epoch := m.cache[tenant], m.epoch
	m.mu.RUnlock()
	if e != nil {
		return e, nil
	}
	kr, err := m.repo.LoadSigningKeys(tenant)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	v, err := newView(kr)
	if err != nil {
		return nil, err
	}
	e = &entry{view: v}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.cache[tenant]; cur != nil {
		return cur, nil
	}
	if m.epoch == epoch { // nothing changed keys while we read them
		m.cache[tenant] = e
	}
	return e, nil
}

// List returns every stored key of tenant, newest generation first and, within a
// generation, in the order of tokens.Algs. A tenant without keys has none.
func (m *Manager) List(tenant string) ([]Key, error) {
	e, err := m.entryFor(tenant)
	if err != nil {
		return nil, err
	}
	return slices.Clone(e.view.keys), nil
}

// Get returns tenant's key kid, or ErrNotFound.
func (m *Manager) Get(tenant, kid string) (Key, error) {
	e, err := m.entryFor(tenant)
	if err != nil {
		return Key{}, err
	}
	if i, ok := e.view.byKID[kid]; ok {
		return e.view.keys[i], nil
	}
	return Key{}, fmt.Errorf("%w: signing key %q of tenant %q", ErrNotFound, kid, tenant)
}

// Published returns the keys relying parties may trust: current, next and
// previous, not revoked; current first, then next, then previous, each in
// the order of tokens.Algs. It is what JWKS shows and Verify accepts.
func (m *Manager) Published(tenant string) ([]Key, error) {
	e, err := m.entryFor(tenant)
	if err != nil {
		return nil, err
	}
	return slices.Clone(e.view.published), nil
}

// Signer returns a signer with tenant's current key for alg (ErrNotFound
// when there is none). Signers are cached until the tenant's keys change,
// so this is a map lookup on the hot path.
func (m *Manager) Signer(tenant string, alg tokens.Alg) (*tokens.Signer, error) {
	i := alg.Index()
	if i < 0 {
		_, err := tokens.ParseAlg(string(alg))
		return nil, fmt.Errorf("keys: %w", err)
	}
	e, err := m.entryFor(tenant)
	if err != nil {
		return nil, err
	}
	m.mu.RLock()
	s := e.signers[i]
	m.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	k, ok := e.view.current[i]
	if !ok {
		return nil, fmt.Errorf("%w: tenant %q has no current %s key", ErrNotFound, tenant, alg)
	}
	s, err = m.newSigner(tenant, e.view.recs[k.KID], k)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if e.signers[i] == nil {
		e.signers[i] = s
	}
	s = e.signers[i]
	m.mu.Unlock()
	return s, nil
}

// backoff is the pause before attempt number attempt+1 of a conflicting
// change: small, random (timing only) and growing.
func backoff(attempt int) time.Duration {
	ceiling := min(time.Duration(attempt)*5*time.Millisecond, 100*time.Millisecond)
	return mrand.N(ceiling) + 1
}
