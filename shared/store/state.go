package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// The state database holds three keyspaces, each behind a one-byte prefix:
//
//	'd' + key                  -> header(version, expiresAt) + value
//	'x' + expiresAt + key      -> empty: the expiry index the reaper scans
//	'm' + name                 -> metadata (the applied index)
const (
	prefixData   = 'd'
	prefixExpiry = 'x'
	prefixMeta   = 'm'
	headerSize   = 16
)

var metaApplied = []byte{prefixMeta, 'a', 'p', 'p', 'l', 'i', 'e', 'd'}

// state is the FSM's data: a Pebble database plus the applied index, the
// apply feed and the waiters on it. Both Local and Node apply through it.
type state struct {
	db   *pebble.DB
	sync *pebble.WriteOptions // Local syncs every batch; a Raft node relies on its log
	now  func() time.Time

	applied atomic.Uint64

	// life guards the database against use after close: every access
	// holds it for reading, close for writing.
	life   sync.RWMutex
	closed bool

	mu      sync.Mutex
	notify  chan struct{} // closed and replaced on every apply
	subs    map[int]func(Event)
	nextSub int
	subList atomic.Pointer[[]func(Event)]
}

func openState(dir string, syncWrites bool, now func() time.Time, log *slog.Logger) (*state, error) {
	db, err := openPebble(dir, log)
	if err != nil {
		return nil, err
	}
	s := &state{db: db, now: now, notify: make(chan struct{}), subs: map[int]func(Event){}}
	s.sync = pebble.NoSync
	if syncWrites {
		s.sync = pebble.Sync
	}
	idx, err := s.readApplied()
	if err != nil {
		db.Close()
		return nil, err
	}
	s.applied.Store(idx)
	s.subList.Store(&[]func(Event){})
	return s, nil
}

func (s *state) close() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

// ErrClosed is returned by reads and writes on a closed store.
var ErrClosed = errors.New("store: closed")

// open takes the read side of life; it fails once the state is closed.
func (s *state) open() error {
	s.life.RLock()
	if s.closed {
		s.life.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *state) readApplied() (uint64, error) {
	v, closer, err := s.db.Get(metaApplied)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read applied index: %w", err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("store: applied index has %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func dataKey(key []byte) []byte {
	k := make([]byte, 1+len(key))
	k[0] = prefixData
	copy(k[1:], key)
	return k
}

func expiryKey(at int64, key []byte) []byte {
	k := make([]byte, 9+len(key))
	k[0] = prefixExpiry
	binary.BigEndian.PutUint64(k[1:9], uint64(at))
	copy(k[9:], key)
	return k
}

func encodeValue(version uint64, expiresAt int64, value []byte) []byte {
	b := make([]byte, headerSize+len(value))
	binary.BigEndian.PutUint64(b[0:8], version)
	binary.BigEndian.PutUint64(b[8:16], uint64(expiresAt))
	copy(b[headerSize:], value)
	return b
}

func decodeHeader(raw []byte) (version uint64, expiresAt int64, err error) {
	if len(raw) < headerSize {
		return 0, 0, fmt.Errorf("store: stored value of %d bytes has no header", len(raw))
	}
	return binary.BigEndian.Uint64(raw[0:8]), int64(binary.BigEndian.Uint64(raw[8:16])), nil
}

func live(expiresAt int64, now time.Time) bool {
	return expiresAt == 0 || expiresAt > now.UnixNano()
}

// getter is what both a Pebble DB and an indexed batch offer.
type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// lookup returns the raw header of key as seen by g; ok is false if absent.
func lookup(g getter, key []byte) (version uint64, expiresAt int64, ok bool, err error) {
	raw, closer, err := g.Get(dataKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	defer closer.Close()
	version, expiresAt, err = decodeHeader(raw)
	return version, expiresAt, err == nil, err
}

// apply applies the transactions of one log entry at index, atomically, and
// returns each transaction's outcome (nil or *ConflictError). Entries at or
// below the applied index were applied before a restart and are skipped.
func (s *state) apply(index uint64, txns []Txn) ([]error, error) {
	results, touched, err := s.commit(index, txns)
	if err != nil || touched == nil {
		return results, err
	}
	// Subscribers run outside the database lock: they may read.
	s.published(Event{Index: index, Keys: *touched})
	return results, nil
}

// commit writes one entry's transactions as one batch; touched is nil when
// the entry was applied before (a replay after restart).
func (s *state) commit(index uint64, txns []Txn) (results []error, touched *[][]byte, err error) {
	if err := s.open(); err != nil {
		return nil, nil, err
	}
	defer s.life.RUnlock()
	results = make([]error, len(txns))
	if index <= s.applied.Load() {
		return results, nil, nil
	}
	b := s.db.NewIndexedBatch()
	defer b.Close()
	keys := [][]byte{}
	for i, t := range txns {
		written, conflict, err := applyTxn(b, index, t)
		if err != nil {
			return nil, nil, fmt.Errorf("store: apply index %d: %w", index, err)
		}
		if conflict != nil {
			results[i] = conflict
			continue
		}
		keys = append(keys, written...)
	}
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], index)
	if err := b.Set(metaApplied, idx[:], nil); err != nil {
		return nil, nil, err
	}
	if err := b.Commit(s.sync); err != nil {
		return nil, nil, fmt.Errorf("store: commit index %d: %w", index, err)
	}
	return results, &keys, nil
}

// applyTxn checks t's preconditions against b and, if they hold, writes its
// ops into b. A failed precondition leaves b as it was.
func applyTxn(b *pebble.Batch, index uint64, t Txn) ([][]byte, *ConflictError, error) {
	for i, c := range t.Conds {
		version, exp, ok, err := lookup(b, c.Key)
		if err != nil {
			return nil, nil, err
		}
		present := ok && live(exp, t.Now)
		var holds bool
		switch c.Kind {
		case CondAbsent:
			holds = !present
		case CondPresent:
			holds = present
		case CondVersion:
			// A version names one write; it matches even once that write
			// has expired, which is what lets the reaper delete it.
			holds = ok && version == c.Version
		}
		if !ok {
			version = 0
		}
		if !holds {
			return nil, &ConflictError{Cond: i, Key: bytes.Clone(c.Key), Want: c.Kind, Actual: version}, nil
		}
	}
	keys := make([][]byte, 0, len(t.Ops))
	for _, op := range t.Ops {
		_, oldExp, ok, err := lookup(b, op.Key)
		if err != nil {
			return nil, nil, err
		}
		if ok && oldExp != 0 {
			if err := b.Delete(expiryKey(oldExp, op.Key), nil); err != nil {
				return nil, nil, err
			}
		}
		switch op.Kind {
		case OpPut:
			exp := unixNanos(op.ExpiresAt)
			if err := b.Set(dataKey(op.Key), encodeValue(index, exp, op.Value), nil); err != nil {
				return nil, nil, err
			}
			if exp != 0 {
				if err := b.Set(expiryKey(exp, op.Key), nil, nil); err != nil {
					return nil, nil, err
				}
			}
		case OpDelete:
			if err := b.Delete(dataKey(op.Key), nil); err != nil {
				return nil, nil, err
			}
		}
		keys = append(keys, op.Key)
	}
	return keys, nil, nil
}

// published runs the subscribers, then makes index visible to readers and
// wakes the waiters: a subscriber (the cache) always sees an event before
// anyone can observe its index.
func (s *state) published(ev Event) {
	for _, fn := range *s.subList.Load() {
		fn(ev)
	}
	s.applied.Store(ev.Index)
	s.mu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

func (s *state) subscribe(fn func(Event)) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = fn
	s.rebuildSubsLocked()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs, id)
		s.rebuildSubsLocked()
	}
}

func (s *state) rebuildSubsLocked() {
	list := make([]func(Event), 0, len(s.subs))
	for i := 0; i < s.nextSub; i++ {
		if fn, ok := s.subs[i]; ok {
			list = append(list, fn)
		}
	}
	s.subList.Store(&list)
}

func (s *state) waitApplied(ctx context.Context, index uint64) error {
	for {
		s.mu.Lock()
		ch := s.notify
		s.mu.Unlock()
		if s.applied.Load() >= index {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("store: waiting for index %d (applied %d): %w", index, s.applied.Load(), ctx.Err())
		}
	}
}

func (s *state) get(key []byte) (Item, error) {
	if err := s.open(); err != nil {
		return Item{}, err
	}
	defer s.life.RUnlock()
	raw, closer, err := s.db.Get(dataKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return Item{}, ErrNotFound
	}
	if err != nil {
		return Item{}, fmt.Errorf("store: get %q: %w", key, err)
	}
	defer closer.Close()
	version, exp, err := decodeHeader(raw)
	if err != nil {
		return Item{}, err
	}
	if !live(exp, s.now()) {
		return Item{}, ErrNotFound
	}
	return Item{Key: bytes.Clone(key), Value: bytes.Clone(raw[headerSize:]), Version: version, ExpiresAt: fromUnixNanos(exp)}, nil
}

// DefaultScanLimit applies when Scan is given a limit <= 0.
const DefaultScanLimit = 100

func (s *state) scan(prefix, after []byte, limit int) ([]Item, []byte, error) {
	if err := s.open(); err != nil {
		return nil, nil, err
	}
	defer s.life.RUnlock()
	if limit <= 0 {
		limit = DefaultScanLimit
	}
	lower := dataKey(prefix)
	if after != nil {
		if !bytes.HasPrefix(after, prefix) {
			return nil, nil, fmt.Errorf("store: cursor %q is outside prefix %q", after, prefix)
		}
		lower = append(dataKey(after), 0) // strictly after the cursor
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(dataKey(prefix))})
	if err != nil {
		return nil, nil, fmt.Errorf("store: scan %q: %w", prefix, err)
	}
	defer it.Close()
	now := s.now()
	var items []Item
	for ok := it.First(); ok; ok = it.Next() {
		raw := it.Value()
		version, exp, err := decodeHeader(raw)
		if err != nil {
			return nil, nil, err
		}
		if !live(exp, now) {
			continue
		}
		if len(items) == limit {
			// There is at least one more live item: the last returned key
			// is the cursor for the next page.
			return items, bytes.Clone(items[len(items)-1].Key), nil
		}
		items = append(items, Item{
			Key:       bytes.Clone(it.Key()[1:]),
			Value:     bytes.Clone(raw[headerSize:]),
			Version:   version,
			ExpiresAt: fromUnixNanos(exp),
		})
	}
	return items, nil, it.Error()
}

// prefixEnd is the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

// expired lists keys whose expiry is at or before now, with the version the
// reaper must find to delete them, oldest first.
func (s *state) expired(now time.Time, limit int) ([]Cond, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	upper := expiryKey(now.UnixNano()+1, nil)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixExpiry}, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []Cond
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		key := bytes.Clone(it.Key()[9:])
		version, _, found, err := lookup(s.db, key)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, AtVersion(key, version))
		}
	}
	return out, it.Error()
}

// Snapshots are a framed stream of every key of the state database, taken
// from a consistent Pebble snapshot:
//
//	magic "AKSNAP1\n"
//	repeated: uvarint(len key) uvarint(len value) key value
//	uvarint(0) uvarint(0)  -- end marker (no key is empty)
//	uint64 count, uint32 crc32c of everything before
var snapshotMagic = []byte("AKSNAP1\n")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// writeSnapshot streams a consistent view of the state to w.
func writeSnapshot(snap *pebble.Snapshot, w io.Writer) error {
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 256<<10)
	if _, err := bw.Write(snapshotMagic); err != nil {
		return err
	}
	it, err := snap.NewIter(nil)
	if err != nil {
		return err
	}
	defer it.Close()
	var count uint64
	var hdr [binary.MaxVarintLen64]byte
	for ok := it.First(); ok; ok = it.Next() {
		k, v := it.Key(), it.Value()
		n := binary.PutUvarint(hdr[:], uint64(len(k)))
		bw.Write(hdr[:n])
		n = binary.PutUvarint(hdr[:], uint64(len(v)))
		bw.Write(hdr[:n])
		bw.Write(k)
		bw.Write(v)
		count++
	}
	if err := it.Error(); err != nil {
		return err
	}
	bw.Write([]byte{0, 0})
	if err := bw.Flush(); err != nil {
		return err
	}
	var trailer [12]byte
	binary.BigEndian.PutUint64(trailer[0:8], count)
	binary.BigEndian.PutUint32(trailer[8:12], crc.Sum32())
	_, err = w.Write(trailer[:])
	return err
}

// restore replaces the whole state with a snapshot stream. The stream is
// verified as it is read; on any error the state is left as it was.
func (s *state) restore(r io.Reader) error {
	idx, err := s.replace(r)
	if err != nil {
		return err
	}
	s.published(Event{Index: idx, Reset: true})
	return nil
}

// replace swaps the state for a verified snapshot stream and returns the
// applied index it carried.
func (s *state) replace(r io.Reader) (uint64, error) {
	if err := s.open(); err != nil {
		return 0, err
	}
	defer s.life.RUnlock()
	// Stage into a batch first so a truncated or corrupt stream changes
	// nothing; a state is small enough (configuration and flow state) to
	// hold one in memory.
	crc := crc32.New(castagnoli)
	br := bufio.NewReaderSize(r, 256<<10)
	tee := io.TeeReader(br, crc)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(tee, magic); err != nil || !bytes.Equal(magic, snapshotMagic) {
		return 0, fmt.Errorf("store: restore: not a snapshot stream")
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange([]byte{0}, []byte{0xff, 0xff}, nil); err != nil {
		return 0, err
	}
	bytesReader := byteReader{tee}
	var count uint64
	for {
		klen, err := binary.ReadUvarint(bytesReader)
		if err != nil {
			return 0, fmt.Errorf("store: restore: %w", err)
		}
		vlen, err := binary.ReadUvarint(bytesReader)
		if err != nil {
			return 0, fmt.Errorf("store: restore: %w", err)
		}
		if klen == 0 {
			break
		}
		if klen > MaxKeySize+16 || vlen > MaxValueSize+headerSize {
			return 0, fmt.Errorf("store: restore: record of %d+%d bytes is too large", klen, vlen)
		}
		kv := make([]byte, klen+vlen)
		if _, err := io.ReadFull(tee, kv); err != nil {
			return 0, fmt.Errorf("store: restore: %w", err)
		}
		if err := b.Set(kv[:klen], kv[klen:], nil); err != nil {
			return 0, err
		}
		count++
	}
	sum := crc.Sum32()
	var trailer [12]byte
	if _, err := io.ReadFull(br, trailer[:]); err != nil {
		return 0, fmt.Errorf("store: restore: trailer: %w", err)
	}
	if got := binary.BigEndian.Uint64(trailer[0:8]); got != count {
		return 0, fmt.Errorf("store: restore: %d records, trailer says %d", count, got)
	}
	if got := binary.BigEndian.Uint32(trailer[8:12]); got != sum {
		return 0, fmt.Errorf("store: restore: checksum mismatch")
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("store: restore: commit: %w", err)
	}
	return s.readApplied()
}

type byteReader struct{ io.Reader }

func (r byteReader) ReadByte() (byte, error) {
	var b [1]byte
	_, err := io.ReadFull(r.Reader, b[:])
	return b[0], err
}

// pebbleLogger routes Pebble's own logging into slog.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...), "component", "pebble")
}
func (l pebbleLogger) Fatalf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...), "component", "pebble")
	panic(fmt.Sprintf(format, args...))
}
