package repo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authok-edge/authok/shared/secretbox"
	"github.com/authok-edge/authok/shared/store"
)

// Repo is the typed access to the store. It is safe for concurrent use.
type Repo struct {
	st          store.Store
	box         secretbox.Key
	now         func() time.Time
	maxAttempts int
	backoff     func(attempt int) time.Duration
}

// Option configures a Repo.
type Option func(*Repo)

// WithClock sets the clock stamped on transactions (Txn.Now). Default
// time.Now.
func WithClock(now func() time.Time) Option { return func(r *Repo) { r.now = now } }

// WithMaxAttempts bounds how many times an update runs its closure before
// giving up with ErrConflict. Default DefaultMaxAttempts.
func WithMaxAttempts(n int) Option {
	return func(r *Repo) {
		if n > 0 {
			r.maxAttempts = n
		}
	}
}

// WithBackoff sets the pause before retry number attempt (1, 2, ...) of a
// conflicting update. The default is a small random pause growing with the
// attempt, so contending writers spread out; the randomness only affects
// timing, never results.
func WithBackoff(f func(attempt int) time.Duration) Option {
	return func(r *Repo) { r.backoff = f }
}

// DefaultMaxAttempts is how many times an update tries by default.
const DefaultMaxAttempts = 16

// List limits.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// New returns a Repo over st that seals secrets with box.
func New(st store.Store, box secretbox.Key, opts ...Option) (*Repo, error) {
	if st == nil {
		return nil, errors.New("repo: nil store")
	}
	if box.IsZero() {
		return nil, errors.New("repo: zero master key")
	}
	r := &Repo{st: st, box: box, now: time.Now, maxAttempts: DefaultMaxAttempts, backoff: defaultBackoff}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

func defaultBackoff(attempt int) time.Duration {
	ceiling := min(time.Duration(attempt)*2*time.Millisecond, 50*time.Millisecond)
	return rand.N(ceiling) + 1
}

// ---- keys ----

func esc(s string) string { return url.PathEscape(s) }

func tenantKey(name string) []byte { return []byte("tenant/" + esc(name)) }
func tenantPrefix() []byte         { return []byte("tenant/") }
func hostKey(host string) []byte   { return []byte("host/" + esc(host)) }

func scope(tenant string) string { return "t/" + esc(tenant) + "/" }

// tenantDataPrefix is everything a tenant owns.
func tenantDataPrefix(tenant string) []byte { return []byte(scope(tenant)) }

func clientPrefix(tenant string) []byte      { return []byte(scope(tenant) + "client/") }
func clientKey(tenant, id string) []byte     { return []byte(scope(tenant) + "client/" + esc(id)) }
func rsPrefix(tenant string) []byte          { return []byte(scope(tenant) + "rs/") }
func rsKey(tenant, id string) []byte         { return []byte(scope(tenant) + "rs/" + esc(id)) }
func rsIdentKey(tenant, ident string) []byte { return []byte(scope(tenant) + "rs-ident/" + esc(ident)) }
func cgPrefix(tenant string) []byte          { return []byte(scope(tenant) + "cg/") }
func cgKey(tenant, id string) []byte         { return []byte(scope(tenant) + "cg/" + esc(id)) }
func cgPairPrefix(tenant string) []byte      { return []byte(scope(tenant) + "cg-pair/") }
func cgPairClientPrefix(tenant, clientID string) []byte {
	return []byte(scope(tenant) + "cg-pair/" + esc(clientID) + "/")
}
func cgPairKey(tenant, clientID, audience string) []byte {
	return []byte(scope(tenant) + "cg-pair/" + esc(clientID) + "/" + esc(audience))
}

// ---- validation ----

var tenantNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func checkTenantName(name string) error {
	if !tenantNameRE.MatchString(name) {
		return fmt.Errorf("%w: tenant name %q must be a DNS label (a-z, 0-9, '-', at most 63)", ErrInvalid, name)
	}
	return nil
}

// maxIDLen bounds ids and identifiers (Auth0's identifier limit) so that
// escaped keys stay well below store.MaxKeySize.
const maxIDLen = 600

func checkID(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty %s", ErrInvalid, what)
	case len(id) > maxIDLen:
		return fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrInvalid, what, len(id), maxIDLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: %s is not UTF-8", ErrInvalid, what)
	case strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: %s %q contains control characters", ErrInvalid, what, id)
	}
	return nil
}

// HostOf returns the host a tenant is served on, given its issuer: lower
// case, without a trailing dot or the scheme's default port. It is the key
// of GetTenantByHost.
func HostOf(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return "", fmt.Errorf("%w: issuer: %v", ErrInvalid, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: issuer %q is not an absolute http(s) URL", ErrInvalid, issuer)
	}
	host := strings.ToLower(u.Host)
	if (u.Scheme == "https" && strings.HasSuffix(host, ":443")) || (u.Scheme == "http" && strings.HasSuffix(host, ":80")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return strings.TrimSuffix(host, "."), nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultListLimit
	case n > MaxListLimit:
		return MaxListLimit
	}
	return n
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
