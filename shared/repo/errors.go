package repo

import "errors"

// Sentinel errors, usable with errors.Is. Returned errors wrap them with
// the record concerned.
var (
	// ErrNotFound: the record, or a record it refers to, does not exist.
	ErrNotFound = errors.New("repo: not found")
	// ErrDuplicate: the id or a unique field (resource server identifier,
	// client grant pair, tenant host) is already taken.
	ErrDuplicate = errors.New("repo: duplicate")
	// ErrConflict: concurrent writes kept changing the record; the update
	// was not applied. The Management API maps it to 409.
	ErrConflict = errors.New("repo: conflicting concurrent update")
	// ErrInvalid: the record breaks an invariant (an empty or malformed id,
	// a change to an immutable field, deleting the system API).
	ErrInvalid = errors.New("repo: invalid")
	// ErrInUse: the record is referred to and cannot go (an action some
	// trigger binds). The Management API maps it to 409.
	ErrInUse = errors.New("repo: in use")
)

// errStale marks a failed AtVersion precondition: the update loop retries it.
var errStale = errors.New("repo: record changed concurrently")
