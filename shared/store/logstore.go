package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

// logStore is raft's LogStore and StableStore on a Pebble database of its
// own (so compaction of the log never stalls the state, and restoring a
// snapshot never touches the log). Every write is synced: the log is what
// makes an acknowledged write durable.
//
//	'l' + index (8 bytes, big endian) -> encoded raft.Log
//	's' + key                          -> stable value
type logStore struct {
	db *pebble.DB
}

var (
	_ raft.LogStore    = (*logStore)(nil)
	_ raft.StableStore = (*logStore)(nil)
)

func openLogStore(dir string, log *slog.Logger) (*logStore, error) {
	db, err := openPebble(dir, log)
	if err != nil {
		return nil, err
	}
	return &logStore{db: db}, nil
}

func (s *logStore) Close() error { return s.db.Close() }

func logKey(index uint64) []byte {
	var k [9]byte
	k[0] = 'l'
	binary.BigEndian.PutUint64(k[1:], index)
	return k[:]
}

func (s *logStore) edgeIndex(last bool) (uint64, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{'l'}, UpperBound: []byte{'m'}})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	ok := it.First()
	if last {
		ok = it.Last()
	}
	if !ok {
		return 0, it.Error()
	}
	return binary.BigEndian.Uint64(it.Key()[1:]), nil
}

func (s *logStore) FirstIndex() (uint64, error) { return s.edgeIndex(false) }
func (s *logStore) LastIndex() (uint64, error)  { return s.edgeIndex(true) }

func (s *logStore) GetLog(index uint64, out *raft.Log) error {
	v, closer, err := s.db.Get(logKey(index))
	if errors.Is(err, pebble.ErrNotFound) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return err
	}
	defer closer.Close()
	return decodeLog(v, out)
}

func (s *logStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

func (s *logStore) StoreLogs(logs []*raft.Log) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, l := range logs {
		if err := b.Set(logKey(l.Index), encodeLog(l), nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

func (s *logStore) DeleteRange(min, max uint64) error {
	return s.db.DeleteRange(logKey(min), logKey(max+1), pebble.Sync)
}

func stableKey(k []byte) []byte { return append([]byte{'s'}, k...) }

func (s *logStore) Set(k, v []byte) error { return s.db.Set(stableKey(k), v, pebble.Sync) }

func (s *logStore) Get(k []byte) ([]byte, error) {
	v, closer, err := s.db.Get(stableKey(k))
	if errors.Is(err, pebble.ErrNotFound) {
		// raft expects an empty value, not an error, for a missing key.
		return nil, errors.New("not found")
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte(nil), v...), nil
}

func (s *logStore) SetUint64(k []byte, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return s.Set(k, b[:])
}

func (s *logStore) GetUint64(k []byte) (uint64, error) {
	v, err := s.Get(k)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("store: stable key %q has %d bytes", k, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// A log entry: uvarint index, uvarint term, type byte, data, extensions,
// varint appended-at nanoseconds.
func encodeLog(l *raft.Log) []byte {
	b := make([]byte, 0, 32+len(l.Data)+len(l.Extensions))
	b = binary.AppendUvarint(b, l.Index)
	b = binary.AppendUvarint(b, l.Term)
	b = append(b, byte(l.Type))
	b = appendBytes(b, l.Data)
	b = appendBytes(b, l.Extensions)
	return binary.AppendVarint(b, unixNanos(l.AppendedAt))
}

func decodeLog(v []byte, out *raft.Log) error {
	d := decoder{buf: v}
	out.Index = d.uvarint()
	out.Term = d.uvarint()
	out.Type = raft.LogType(d.byte())
	out.Data = append([]byte(nil), d.bytes(len(v))...)
	out.Extensions = append([]byte(nil), d.bytes(len(v))...)
	out.AppendedAt = fromUnixNanos(d.varint())
	if d.err != nil {
		return fmt.Errorf("store: corrupt raft log entry: %w", d.err)
	}
	if out.AppendedAt.IsZero() {
		out.AppendedAt = time.Time{}
	}
	return nil
}
