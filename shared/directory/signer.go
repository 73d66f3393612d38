package directory

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/authok-edge/authok/shared/store"
	"github.com/authok-edge/authok/shared/tokens"
)

type signerKey struct {
	tenant string
	alg    tokens.Alg
}

// signerCache holds built signers in a copy-on-write map: a hit is one
// atomic load and one map lookup, with no lock. Writers (fills and the
// apply feed) serialise on mu.
type signerCache struct {
	src    SignerSource
	prefix func(tenant string) []byte

	m atomic.Pointer[map[signerKey]*tokens.Signer]
	// watched is the sorted list of key prefixes of tenants with a signer
	// cached or being built; the apply feed searches it for each key.
	watched atomic.Pointer[[]watchedPrefix]

	mu     sync.Mutex
	epochs map[string]uint64 // per tenant: bumped by every write under its prefix
	gen    uint64            // bumped by a Reset

	hits, misses atomic.Uint64
}

type watchedPrefix struct {
	prefix string
	tenant string
}

func newSignerCache(src SignerSource, prefix func(string) []byte) *signerCache {
	c := &signerCache{src: src, prefix: prefix, epochs: map[string]uint64{}}
	empty := map[signerKey]*tokens.Signer{}
	c.m.Store(&empty)
	c.watched.Store(&[]watchedPrefix{})
	return c
}

var errNoSigners = errors.New("directory: no SignerSource configured")

func (c *signerCache) get(tenant string, alg tokens.Alg) (*tokens.Signer, error) {
	if s := (*c.m.Load())[signerKey{tenant, alg}]; s != nil {
		c.hits.Add(1)
		return s, nil
	}
	c.misses.Add(1)
	if c.src == nil {
		return nil, errNoSigners
	}
	// Watch the tenant's prefix and take its epoch before the source reads
	// the store: a key write applied from here on changes the epoch.
	c.mu.Lock()
	c.watchLocked(tenant)
	epoch, gen := c.epochs[tenant], c.gen
	c.mu.Unlock()

	s, err := c.src.Signer(tenant, alg)
	if err != nil {
		return nil, fmt.Errorf("directory: signer of %s for %s: %w", tenant, alg, err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epochs[tenant] != epoch || c.gen != gen {
		// The keys changed while the signer was being built: use it for
		// this request (it was current when read) but do not keep it.
		return s, nil
	}
	cur := *c.m.Load()
	next := make(map[signerKey]*tokens.Signer, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[signerKey{tenant, alg}] = s
	c.m.Store(&next)
	return s, nil
}

// watchLocked adds tenant's key prefix to the watched list.
func (c *signerCache) watchLocked(tenant string) {
	cur := *c.watched.Load()
	p := string(c.prefix(tenant))
	i, found := slices.BinarySearchFunc(cur, p, func(w watchedPrefix, p string) int { return strings.Compare(w.prefix, p) })
	if found {
		return
	}
	next := slices.Insert(slices.Clone(cur), i, watchedPrefix{prefix: p, tenant: tenant})
	c.watched.Store(&next)
}

// owner returns the watched tenant whose prefix key starts with.
func (c *signerCache) owner(key []byte) (string, bool) {
	list := *c.watched.Load()
	// The last prefix <= key is the only candidate: prefixes of different
	// tenants never nest (they end in the tenant's own path segment).
	i, found := slices.BinarySearchFunc(list, key, func(w watchedPrefix, k []byte) int {
		return strings.Compare(w.prefix, string(k))
	})
	if !found {
		i--
	}
	if i < 0 {
		return "", false
	}
	if w := list[i]; strings.HasPrefix(string(key), w.prefix) {
		return w.tenant, true
	}
	return "", false
}

// apply is the store's feed callback: it drops the signers of every tenant
// whose keys the transaction touched, before the index becomes visible.
func (c *signerCache) apply(ev store.Event) {
	if ev.Reset {
		c.mu.Lock()
		c.gen++
		empty := map[signerKey]*tokens.Signer{}
		c.m.Store(&empty)
		c.mu.Unlock()
		return
	}
	var locked bool
	for _, k := range ev.Keys {
		tenant, ok := c.owner(k)
		if !ok {
			continue
		}
		if !locked {
			c.mu.Lock()
			locked = true
		}
		c.epochs[tenant]++
		cur := *c.m.Load()
		next := make(map[signerKey]*tokens.Signer, len(cur))
		for sk, v := range cur {
			if sk.tenant != tenant {
				next[sk] = v
			}
		}
		c.m.Store(&next)
	}
	if locked {
		c.mu.Unlock()
	}
}
