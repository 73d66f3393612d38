package logship

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/store"
)

// Reader is what the quota needs of the store besides Apply: the tenant's
// usage record and its oldest batches (store.Local and store.Node have
// both).
type Reader interface {
	Get(key []byte) (store.Item, error)
	Scan(prefix, after []byte, limit int) (items []store.Item, next []byte, err error)
}

// A tenant's usage record, under t/<T>/log-usage, counts the bytes (key
// plus value) of its stored batches by the UTC day they expire on:
//
//	byte 0    usageFormat (1)
//	then      for each day, ascending: uvarint(day - previous day) uvarint(bytes)
//
// (the first day is relative to 0, days since the Unix epoch). Counting by
// expiry day lets the count forget batches as the store expires them,
// without a scan: a day's bytes are dropped once the day has ended. Every
// write of a batch rewrites the record under a version condition, so
// nodes shipping to one tenant at once cannot lose each other's counts.
const usageFormat byte = 1

// usageDay is the width of a usage record's buckets.
const usageDay = 24 * time.Hour

// scanPage is how many batches the quota reads at a time, oldest first.
const scanPage = 16

// maxUsageDays bounds a usage record read back (a damaged one cannot make
// the shipper allocate without limit).
const maxUsageDays = 1 << 12

type usage struct {
	version uint64          // of the record; 0 when there is none
	days    map[int64]int64 // expiry day → bytes
}

func dayOf(t time.Time) int64 { return t.Unix() / int64(usageDay/time.Second) }

func dayEnd(day int64) time.Time { return time.Unix((day+1)*int64(usageDay/time.Second), 0) }

func (u *usage) total() int64 {
	var n int64
	for _, b := range u.days {
		n += b
	}
	return n
}

func (u *usage) sub(day, n int64) {
	if b, ok := u.days[day]; ok {
		if b -= n; b > 0 {
			u.days[day] = b
		} else {
			delete(u.days, day)
		}
	}
}

func (u *usage) encode() []byte {
	days := make([]int64, 0, len(u.days))
	for d := range u.days {
		days = append(days, d)
	}
	slices.Sort(days)
	out := []byte{usageFormat}
	prev := int64(0)
	for _, d := range days {
		out = binary.AppendUvarint(out, uint64(d-prev))
		out = binary.AppendUvarint(out, uint64(u.days[d]))
		prev = d
	}
	return out
}

var errBadUsage = errors.New("logship: malformed log usage record")

func decodeUsage(v []byte) (map[int64]int64, error) {
	if len(v) == 0 || v[0] != usageFormat {
		return nil, errBadUsage
	}
	days := make(map[int64]int64)
	v = v[1:]
	day := int64(0)
	for len(v) > 0 {
		d, n := binary.Uvarint(v)
		if n <= 0 || len(days) == maxUsageDays {
			return nil, errBadUsage
		}
		v = v[n:]
		b, n := binary.Uvarint(v)
		if n <= 0 || d > 1<<40 || b > 1<<62 {
			return nil, errBadUsage
		}
		v = v[n:]
		day += int64(d)
		days[day] = int64(b)
	}
	return days, nil
}

// readUsage reads tenant's usage record, forgetting the days that have
// ended at now (their batches are expired).
func readUsage(r Reader, tenant string, now time.Time) (usage, error) {
	it, err := r.Get(repo.LogUsageKey(tenant))
	if errors.Is(err, store.ErrNotFound) {
		return usage{days: map[int64]int64{}}, nil
	}
	if err != nil {
		return usage{}, fmt.Errorf("logship: read log usage of %s: %w", tenant, err)
	}
	days, err := decodeUsage(it.Value)
	if err != nil {
		// A damaged count is rebuilt from nothing rather than stop the
		// tenant's logs; the oldest batches will then outlive the quota
		// until they expire.
		days = map[int64]int64{}
	}
	for d := range days {
		if !dayEnd(d).After(now) {
			delete(days, d)
		}
	}
	return usage{version: it.Version, days: days}, nil
}

// quotaOps returns the conditions and ops that store put (a batch of
// size bytes expiring at expires) within tenant's quota: the oldest
// batches are deleted until the new one fits, and the usage record is
// rewritten under a condition on the version read. store is false when
// the batch alone exceeds the quota and must be left out.
func quotaOps(r Reader, quota int64, tenant string, put store.Op, now time.Time) (conds []store.Cond, ops []store.Op, stored bool, err error) {
	size := int64(len(put.Key) + len(put.Value))
	if size > quota {
		return nil, nil, false, nil
	}
	u, err := readUsage(r, tenant, now)
	if err != nil {
		return nil, nil, false, err
	}
	ukey := repo.LogUsageKey(tenant)
	if u.version == 0 {
		conds = append(conds, store.Absent(ukey))
	} else {
		conds = append(conds, store.AtVersion(ukey, u.version))
	}
	if u.total()+size > quota {
		if ops, err = u.dropOldest(r, tenant, u.total()+size-quota); err != nil {
			return nil, nil, false, err
		}
	}
	day := dayOf(put.ExpiresAt)
	u.days[day] += size
	last := day
	for d := range u.days {
		last = max(last, d)
	}
	ops = append(ops, put, store.PutExpiring(ukey, u.encode(), dayEnd(last)))
	return conds, ops, true, nil
}

// dropOldest returns the deletes of tenant's oldest batches that free
// excess bytes, and takes them from u.
func (u *usage) dropOldest(r Reader, tenant string, excess int64) ([]store.Op, error) {
	prefix := repo.LogPrefix(tenant)
	var ops []store.Op
	var after []byte
	first := true
	for excess > 0 {
		items, next, err := r.Scan(prefix, after, scanPage)
		if err != nil {
			return nil, fmt.Errorf("logship: scan %s: %w", prefix, err)
		}
		for _, it := range items {
			if first && !it.ExpiresAt.IsZero() {
				// Keys sort by date, so nothing stored expires before the
				// oldest batch: days before its expiry day count batches
				// already expired (the store hides them) and are dropped.
				first = false
				oldest := dayOf(it.ExpiresAt)
				for d, b := range u.days {
					if d < oldest {
						excess -= b
						delete(u.days, d)
					}
				}
			}
			if excess <= 0 {
				return ops, nil
			}
			n := int64(len(it.Key) + len(it.Value))
			ops = append(ops, store.Delete(it.Key))
			u.sub(dayOf(it.ExpiresAt), n)
			excess -= n
		}
		if next == nil {
			break
		}
		after = next
	}
	if excess > 0 {
		// Every stored batch is being deleted and the count still says
		// more: what is left counts batches expired earlier today.
		clear(u.days)
	}
	return ops, nil
}
