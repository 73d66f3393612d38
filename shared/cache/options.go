package cache

import (
	"cmp"
	"errors"
	"time"

	"github.com/authok-edge/authok/shared/store"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxCost is the capacity when Options.MaxCost is zero: that many
// entries at the default cost of 1 each.
const DefaultMaxCost = 1 << 16

// Options configures a Cache. Only Name is required.
type Options struct {
	// Name labels this cache's metrics (name="...") and prefixes its errors.
	Name string
	// MaxCost bounds the cache in the units Cost returns; default
	// DefaultMaxCost.
	MaxCost int64
	// NumCounters is how many keys ristretto tracks access frequency for.
	// Default 10 × MaxCost (ristretto's advice: ten times the entries held);
	// required when Cost is set, since MaxCost is then not an entry count.
	NumCounters int64
	// Cost weighs an entry. It receives the item read, or for a missing key
	// an Item holding only Key. Nil means 1 per entry; results below 1
	// count as 1.
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
	o.NumCounters = cmp.Or(o.NumCounters, 10*o.MaxCost)
	if o.Cost == nil {
		o.Cost = func(store.Item) int64 { return 1 }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
