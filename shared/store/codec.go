package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// A Raft log entry's data is an envelope: one byte naming the command type,
// then that type's encoding. Command types are numbered once and only ever
// appended, so every log ever written still replays.
type cmdType byte

const (
	cmdTxn   cmdType = 1 // one Txn
	cmdBatch cmdType = 2 // several Txns coalesced into one entry, each with its own result
	// Append new command types here; never renumber or remove one.
)

// maxBatch bounds the transactions of one batch entry; with the limits of a
// transaction (MaxTxnOps, MaxKeySize, MaxValueSize, which Validate enforces
// before a proposal), it keeps a hostile or corrupt envelope from
// allocating without bound.
const maxBatch = 1 << 12

var errShortEnvelope = errors.New("store: truncated command")

func encodeTxnCmd(t Txn) []byte {
	b := make([]byte, 0, 64+txnSizeHint(t))
	b = append(b, byte(cmdTxn))
	return appendTxn(b, t)
}

func encodeBatchCmd(ts []Txn) []byte {
	size := 16
	for _, t := range ts {
		size += txnSizeHint(t)
	}
	b := make([]byte, 0, size)
	b = append(b, byte(cmdBatch))
	b = binary.AppendUvarint(b, uint64(len(ts)))
	for _, t := range ts {
		b = appendTxn(b, t)
	}
	return b
}

func txnSizeHint(t Txn) int {
	n := 16
	for _, c := range t.Conds {
		n += len(c.Key) + 12
	}
	for _, op := range t.Ops {
		n += len(op.Key) + len(op.Value) + 16
	}
	return n
}

func appendTxn(b []byte, t Txn) []byte {
	b = binary.AppendVarint(b, unixNanos(t.Now))
	b = binary.AppendUvarint(b, uint64(len(t.Conds)))
	for _, c := range t.Conds {
		b = append(b, byte(c.Kind))
		b = appendBytes(b, c.Key)
		b = binary.AppendUvarint(b, c.Version)
	}
	b = binary.AppendUvarint(b, uint64(len(t.Ops)))
	for _, op := range t.Ops {
		b = append(b, byte(op.Kind))
		b = appendBytes(b, op.Key)
		b = appendBytes(b, op.Value)
		b = binary.AppendVarint(b, unixNanos(op.ExpiresAt))
	}
	return b
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// decodeCmd decodes an envelope into the transactions it carries.
func decodeCmd(data []byte) ([]Txn, error) {
	if len(data) == 0 {
		return nil, errShortEnvelope
	}
	d := decoder{buf: data[1:]}
	var txns []Txn
	switch cmdType(data[0]) {
	case cmdTxn:
		txns = []Txn{d.txn()}
	case cmdBatch:
		n := d.count(maxBatch)
		txns = make([]Txn, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			txns = append(txns, d.txn())
		}
	default:
		return nil, fmt.Errorf("store: unknown command type %d", data[0])
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.buf) != 0 {
		return nil, fmt.Errorf("store: %d trailing bytes after command", len(d.buf))
	}
	return txns, nil
}

// decodeTxn decodes the body of a forwarded transaction (no envelope byte).
func decodeTxn(data []byte) (Txn, error) {
	d := decoder{buf: data}
	t := d.txn()
	if d.err == nil && len(d.buf) != 0 {
		d.err = fmt.Errorf("store: %d trailing bytes after transaction", len(d.buf))
	}
	return t, d.err
}

type decoder struct {
	buf []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.err = errShortEnvelope
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.err = errShortEnvelope
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.buf) == 0 {
		d.err = errShortEnvelope
		return 0
	}
	c := d.buf[0]
	d.buf = d.buf[1:]
	return c
}

func (d *decoder) count(max int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(max) {
		d.err = fmt.Errorf("store: count %d exceeds %d", n, max)
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(max int) []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(max) || n > uint64(len(d.buf)) {
		d.err = errShortEnvelope
		return nil
	}
	p := d.buf[:n:n]
	d.buf = d.buf[n:]
	return p
}

func (d *decoder) txn() Txn {
	var t Txn
	t.Now = fromUnixNanos(d.varint())
	nc := d.count(MaxTxnOps)
	if nc > 0 {
		t.Conds = make([]Cond, 0, nc)
	}
	for i := 0; i < nc && d.err == nil; i++ {
		c := Cond{Kind: CondKind(d.byte())}
		c.Key = d.bytes(MaxKeySize)
		c.Version = d.uvarint()
		t.Conds = append(t.Conds, c)
	}
	no := d.count(MaxTxnOps)
	if no > 0 {
		t.Ops = make([]Op, 0, no)
	}
	for i := 0; i < no && d.err == nil; i++ {
		op := Op{Kind: OpKind(d.byte())}
		op.Key = d.bytes(MaxKeySize)
		op.Value = d.bytes(MaxValueSize)
		op.ExpiresAt = fromUnixNanos(d.varint())
		t.Ops = append(t.Ops, op)
	}
	if d.err == nil {
		if err := t.Validate(); err != nil {
			d.err = err
		}
	}
	return t
}
