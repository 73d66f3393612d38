package logship

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/store"
)

// A stored batch is one tenant's share of one shipped slice of the ring,
// under t/<T>/log/<smallest event id of the batch>:
//
//	byte 0    batchFormat (1)
//	byte 1..  a zstd frame of: for each event, uvarint(len) then its C.11 JSON
//
// One key per batch instead of one per event: the store applies, compacts
// and replicates a few compressed kilobytes per thousand tokens instead of
// a thousand small keys (events of one client repeat almost every byte).
const batchFormat byte = 1

// maxBatchBytes bounds a decoded batch, so a damaged or hostile value
// cannot make a reader allocate without limit.
const maxBatchBytes = 64 << 20

// maxShipBytes bounds the events (their JSON) one transaction ships, so a
// stored batch stays far below the store's value limit even when the
// events do not compress (MaxEventBytes of random details each).
const maxShipBytes = 4 << 20

var (
	zstdOnce sync.Once
	zenc     *zstd.Encoder
	zdec     *zstd.Decoder
)

// codec returns the process-wide encoder and decoder; their EncodeAll and
// DecodeAll are safe for concurrent use.
func codec() (*zstd.Encoder, *zstd.Decoder) {
	zstdOnce.Do(func() {
		var err error
		zenc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic("logship: zstd encoder: " + err.Error()) // only on invalid options
		}
		zdec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxBatchBytes))
		if err != nil {
			panic("logship: zstd decoder: " + err.Error())
		}
	})
	return zenc, zdec
}

// encodeBatch returns the stored form of events.
func encodeBatch(events []entry) []byte {
	n := 0
	for _, e := range events {
		n += binary.MaxVarintLen32 + len(e.value)
	}
	raw := make([]byte, 0, n)
	for _, e := range events {
		raw = binary.AppendUvarint(raw, uint64(len(e.value)))
		raw = append(raw, e.value...)
	}
	enc, _ := codec()
	return enc.EncodeAll(raw, []byte{batchFormat})
}

// ErrBadBatch is wrapped by DecodeBatch for a value that is not a batch.
var ErrBadBatch = errors.New("logship: malformed log batch")

// DecodeBatch returns the events (each its C.11 JSON) of a stored batch,
// in the order they were recorded. The slices share one buffer.
func DecodeBatch(value []byte) ([][]byte, error) {
	if len(value) == 0 || value[0] != batchFormat {
		return nil, fmt.Errorf("%w: unknown format", ErrBadBatch)
	}
	_, dec := codec()
	raw, err := dec.DecodeAll(value[1:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBatch, err)
	}
	if len(raw) > maxBatchBytes {
		return nil, fmt.Errorf("%w: %d bytes decoded", ErrBadBatch, len(raw))
	}
	var events [][]byte
	for len(raw) > 0 {
		l, n := binary.Uvarint(raw)
		if n <= 0 || l == 0 || l > uint64(len(raw)-n) {
			return nil, fmt.Errorf("%w: bad event length", ErrBadBatch)
		}
		events = append(events, raw[n:n+int(l):n+int(l)])
		raw = raw[n+int(l):]
	}
	return events, nil
}

// Events returns up to limit of tenant's stored events, oldest batch first
// (within a batch, in recording order). It is how readers of the log (the
// Management API's /logs, log streams, tests) see what the shipper wrote.
func Events(r store.Reader, tenant string, limit int) ([][]byte, error) {
	prefix := repo.LogPrefix(tenant)
	var out [][]byte
	var after []byte
	for len(out) < limit {
		items, next, err := r.Scan(prefix, after, 100)
		if err != nil {
			return nil, fmt.Errorf("logship: scan %s: %w", prefix, err)
		}
		for _, it := range items {
			events, err := DecodeBatch(it.Value)
			if err != nil {
				return nil, fmt.Errorf("logship: %s: %w", it.Key, err)
			}
			out = append(out, events[:min(len(events), limit-len(out))]...)
			if len(out) == limit {
				return out, nil
			}
		}
		if next == nil {
			break
		}
		after = next
	}
	return out, nil
}
