package executor

import (
	"context"
	"errors"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
)

// records is what the executor reads and writes in the replicated store.
// repoRecords (repo.go) implements it over shared/repo; reads are local
// (the node's replica), writes go through Raft.
type records interface {
	// tenants lists every tenant's name.
	tenants() ([]string, error)
	// tenant reports whether the tenant exists and its Actions deadline
	// (0: the default).
	tenant(name string) (timeout time.Duration, ok bool, err error)
	// bindings is the trigger's ordered bindings (none: nil).
	bindings(tenant string, t abi.Trigger) ([]bindingRec, error)
	// action is an action's name and deployed version; errNoRecord when
	// it is gone.
	action(tenant, id string) (actionRec, error)
	// version is an immutable deployed version, its secrets opened.
	version(tenant, actionID, versionID string) (versionRec, error)
	// buildStatus is this node's recorded build result of a version.
	buildStatus(tenant, versionID, node string) (st buildRec, ok bool, err error)
	putBuildStatus(ctx context.Context, tenant, versionID, node string, st buildRec) error
	putExecution(ctx context.Context, tenant string, ex executionRec) error
}

// errNoRecord is what records answers for a record that does not exist.
var errNoRecord = errors.New("no such record")

type bindingRec struct {
	ID       string
	ActionID string
}

type actionRec struct {
	Name            string
	DeployedVersion string // "" when never deployed
}

type versionRec struct {
	ID       string
	Number   int
	Runtime  string
	Source   string // JavaScript
	Module   []byte // WebAssembly
	Secrets  map[string]string
	Triggers []abi.Trigger
}

// buildRec is one node's build result of a version; Errors empty means
// built.
type buildRec struct {
	Errors  []string
	BuiltAt time.Time
}

// executionRec is a failed run (API.md C.9 Execution): which action
// failed how, and how many failures of the same version this node did not
// record since the previous record (the rate limit).
type executionRec struct {
	ID         string
	Trigger    abi.Trigger
	ActionName string
	VersionID  string
	Error      string
	Suppressed int
	StartedAt  time.Time
	EndedAt    time.Time
}
