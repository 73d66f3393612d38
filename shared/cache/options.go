package cache

import (
	"cmp"
	"errors"
	"time"

	"github.com/authok-edge/authok/shared/store"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxCost is the capacity when Options.MaxCost is zero: 32 MiB of
// entries weighed by EntryCost.
const DefaultMaxCost = 32 << 20

const (
	// entryOverhead is what an entry holds beyond its key and value: the
	// entry, ristretto's item, their map slots and the policy's record
	// (measured: a cached miss takes about 250 bytes besides its key).
	entryOverhead = 256
	// expectedEntryCost sizes ristretto's frequency counters under the
	// default cost: ten counters per entry of this many bytes.
	expectedEntryCost = 512
	minNumCounters    = 1 << 10
)

// EntryCost is the default Cost: an entry's size in bytes, estimated as
// its key, twice its stored value (a decoded value is usually larger than
// its encoding) and a fixed overhead. A cached miss costs its key and the
// overhead, so distinct missing keys, however long, fill MaxCost bytes at
// most.
func EntryCost(it store.Item) int64 {
	return entryOverhead + int64(len(it.Key)) + 2*int64(len(it.Value))
}

// Options configures a Cache. Only Name is required.
type Options struct {
	// Name labels this cache's metrics (name="...") and prefixes its errors.
	Name string
	// MaxCost bounds the cache in the units Cost returns: bytes unless Cost
	// is set. Default DefaultMaxCost.
	MaxCost int64
	// NumCounters is how many keys ristretto tracks access frequency for.
	// Default ten per expectedEntryCost bytes of MaxCost (ristretto's
	// advice: ten times the entries held); required when Cost is set, since
	// its units are unknown.
	NumCounters int64
	// Cost weighs an entry. It receives the item read, or for a missing key
	// an Item holding only Key. Nil means EntryCost (bytes); results below
	// 1 count as 1.
	Cost func(store.Item) int64
	// Registerer receives the metrics; nil leaves them unregistered (Stats
	// still counts). Never the global default unless passed explicitly.
	Registerer prometheus.Registerer
	// Now decides whether a cached item has expired. It must be the
	// store's clock; default time.Now.
	Now func() time.Time
}

// Validate reports every problem with o at once.
func (o Options) Validate() error {
	var errs []error
	if o.Name == "" {
		errs = append(errs, errors.New("cache: Options.Name is required"))
	}
	if o.MaxCost < 0 {
		errs = append(errs, errors.New("cache: Options.MaxCost is negative"))
	}
	if o.NumCounters < 0 {
		errs = append(errs, errors.New("cache: Options.NumCounters is negative"))
	}
	if o.Cost != nil && o.NumCounters == 0 {
		errs = append(errs, errors.New("cache: Options.NumCounters is required with Options.Cost"))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	o.MaxCost = cmp.Or(o.MaxCost, DefaultMaxCost)
	o.NumCounters = cmp.Or(o.NumCounters, max(10*o.MaxCost/expectedEntryCost, minNumCounters))
	if o.Cost == nil {
		o.Cost = EntryCost
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
