package store

import (
	"errors"
	"fmt"
	"time"
)

// CondKind says what a precondition requires of a key.
type CondKind uint8

const (
	// CondAbsent requires the key to be missing (or expired).
	CondAbsent CondKind = iota + 1
	// CondPresent requires the key to exist and not be expired.
	CondPresent
	// CondVersion requires the key to exist at exactly Version.
	CondVersion
)

func (k CondKind) String() string {
	switch k {
	case CondAbsent:
		return "absent"
	case CondPresent:
		return "present"
	case CondVersion:
		return "version"
	}
	return fmt.Sprintf("cond(%d)", uint8(k))
}

// Cond is one precondition of a transaction.
type Cond struct {
	Kind    CondKind
	Key     []byte
	Version uint64 // only for CondVersion
}

// OpKind says what an operation does to a key.
type OpKind uint8

const (
	OpPut OpKind = iota + 1
	OpDelete
)

// Op is one write of a transaction.
type Op struct {
	Kind  OpKind
	Key   []byte
	Value []byte
	// ExpiresAt, when non-zero, makes the key invisible from that instant on;
	// the leader then deletes it with an ordinary transaction.
	ExpiresAt time.Time
}

// Txn is the unit of writing: all preconditions hold and every op is applied,
// or nothing changes.
type Txn struct {
	Conds []Cond
	Ops   []Op
	// Now is the proposer's clock when the transaction was proposed. The FSM
	// decides expiry with it (never its own clock), so every replica reaches
	// the same result. Apply fills it in when zero.
	Now time.Time
}

// Absent, Present, AtVersion, Put, PutTTL and Delete build conditions and
// ops; they keep call sites short.
func Absent(key []byte) Cond  { return Cond{Kind: CondAbsent, Key: key} }
func Present(key []byte) Cond { return Cond{Kind: CondPresent, Key: key} }
func AtVersion(key []byte, version uint64) Cond {
	return Cond{Kind: CondVersion, Key: key, Version: version}
}
func Put(key, value []byte) Op { return Op{Kind: OpPut, Key: key, Value: value} }
func PutExpiring(key, value []byte, at time.Time) Op {
	return Op{Kind: OpPut, Key: key, Value: value, ExpiresAt: at}
}
func Delete(key []byte) Op { return Op{Kind: OpDelete, Key: key} }

// Validate reports a malformed transaction before it is proposed. It
// enforces every limit the log's decoder enforces: a transaction that
// passed here and failed to decode on apply would stop every replica at
// that entry, for good.
func (t Txn) Validate() error {
	if len(t.Ops) == 0 && len(t.Conds) == 0 {
		return errors.New("store: empty transaction")
	}
	if len(t.Conds) > MaxTxnOps || len(t.Ops) > MaxTxnOps {
		return fmt.Errorf("store: %d conditions and %d ops: at most %d of each", len(t.Conds), len(t.Ops), MaxTxnOps)
	}
	for i, c := range t.Conds {
		if err := checkKey(c.Key); err != nil {
			return fmt.Errorf("store: condition %d: %w", i, err)
		}
		if c.Kind < CondAbsent || c.Kind > CondVersion {
			return fmt.Errorf("store: condition %d: unknown kind %d", i, c.Kind)
		}
	}
	for i, op := range t.Ops {
		if err := checkKey(op.Key); err != nil {
			return fmt.Errorf("store: op %d: %w", i, err)
		}
		if len(op.Value) > MaxValueSize {
			return fmt.Errorf("store: op %d: value of %d bytes exceeds %d", i, len(op.Value), MaxValueSize)
		}
		if op.Kind != OpPut && op.Kind != OpDelete {
			return fmt.Errorf("store: op %d: unknown kind %d", i, op.Kind)
		}
	}
	return nil
}

func checkKey(key []byte) error {
	switch {
	case len(key) == 0:
		return errors.New("empty key")
	case len(key) > MaxKeySize:
		return fmt.Errorf("key of %d bytes exceeds %d", len(key), MaxKeySize)
	}
	return nil
}

// Limits of one transaction, the same for the log's decoder.
const (
	// MaxKeySize bounds keys so that internal index keys stay small.
	MaxKeySize = 4096
	// MaxValueSize bounds one value.
	MaxValueSize = 16 << 20
	// MaxTxnOps bounds the conditions, and separately the ops, of one
	// transaction.
	MaxTxnOps = 1 << 16
)

// Result is what a committed transaction reports.
type Result struct {
	// Index is the Raft index the transaction was applied at: the new
	// version of every key it wrote.
	Index uint64
}

// ErrNotFound is returned by Get for a missing or expired key.
var ErrNotFound = errors.New("store: key not found")

// ConflictError is returned when a precondition failed; nothing was written.
type ConflictError struct {
	Cond   int // index into Txn.Conds
	Key    []byte
	Want   CondKind
	Actual uint64 // the key's version when the condition was checked, 0 if absent
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("store: conflict on %q: want %s, found version %d", e.Key, e.Want, e.Actual)
}

// IsConflict reports whether err is (or wraps) a *ConflictError.
func IsConflict(err error) bool {
	var c *ConflictError
	return errors.As(err, &c)
}
