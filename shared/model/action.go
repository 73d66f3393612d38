package model

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Build statuses of an action and of an action version (API.md C.9).
// authok-edge reports pending (no node has built the version yet), built
// and failed; the others are Auth0's and accepted on read-back only.
const (
	ActionStatusPending  = "pending"
	ActionStatusBuilding = "building"
	ActionStatusPackaged = "packaged"
	ActionStatusBuilt    = "built"
	ActionStatusRetrying = "retrying"
	ActionStatusFailed   = "failed"
)

// Execution statuses.
const (
	ExecutionStatusFinal    = "final"
	ExecutionStatusFailed   = "failed"
	ExecutionStatusCanceled = "canceled"
)

// ExecutionTTL is how long an execution record lives (Auth0 keeps them
// ten days).
const ExecutionTTL = 10 * 24 * time.Hour

// ActionTrigger is a trigger an action supports: its canonical id
// ("credentials-exchange"), the trigger's version ("v3") and, on read, its
// status ("current").
type ActionTrigger struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Status  string `json:"status,omitempty"`
}

// ActionDependency is an npm dependency. authok-edge refuses them for now;
// the type exists so the wire form is known.
type ActionDependency struct {
	Name        string `json:"name"`
	Version     string `json:"version,omitempty"`
	RegistryURL string `json:"registry_url,omitempty"`
}

// ActionSecret is one of an action's secrets (event.secrets[Name]). Value
// is write-only on the API; the repositories seal it at rest.
type ActionSecret struct {
	Name      string `json:"name"`
	Value     Secret `json:"value,omitempty"`
	UpdatedAt Time   `json:"updated_at,omitzero"`
}

// Action is a tenant's action: its draft (what the next deploy
// snapshots) and the version that runs (DeployedVersionID). Code holds
// JavaScript; Module a WebAssembly module when Runtime is "wasm". Module
// is kept out of the JSON: the repositories store it beside the record
// and the Management API never echoes it.
type Action struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	SupportedTriggers []ActionTrigger    `json:"supported_triggers"`
	Runtime           string             `json:"runtime"`
	Code              string             `json:"code"`
	Module            []byte             `json:"-"`
	Dependencies      []ActionDependency `json:"dependencies"`
	Secrets           []ActionSecret     `json:"secrets"`
	// DeployedVersionID names the version bindings run ("" until the
	// first deploy).
	DeployedVersionID string `json:"deployed_version_id,omitempty"`
	// LatestVersionNumber is the number of the last version made (deploys
	// number versions 1, 2, ... per action); the repositories set it.
	LatestVersionNumber int  `json:"latest_version_number,omitempty"`
	CreatedAt           Time `json:"created_at,omitzero"`
	UpdatedAt           Time `json:"updated_at,omitzero"`

	// Version is the store version of the record (the ETag).
	Version uint64 `json:"-"`
}

// SecretMap returns the secrets as event.secrets: name → clear value.
func SecretMap(secrets []ActionSecret) map[string]string {
	m := make(map[string]string, len(secrets))
	for _, s := range secrets {
		m[s.Name] = s.Value.Reveal()
	}
	return m
}

// ActionVersion is an immutable deployed snapshot of an action: what
// runs while it is the action's deployed version. Secrets are the
// action's secrets when it was deployed.
type ActionVersion struct {
	ID                string             `json:"id"`
	ActionID          string             `json:"action_id"`
	Number            int                `json:"number"`
	Runtime           string             `json:"runtime"`
	Code              string             `json:"code"`
	Module            []byte             `json:"-"`
	SupportedTriggers []ActionTrigger    `json:"supported_triggers"`
	Dependencies      []ActionDependency `json:"dependencies"`
	Secrets           []ActionSecret     `json:"secrets"`
	CreatedAt         Time               `json:"created_at,omitzero"`

	// Version is the store version of the record.
	Version uint64 `json:"-"`
}

// ActionBinding binds an action to a trigger; the action's deployed
// version runs.
type ActionBinding struct {
	ID          string `json:"id"`
	ActionID    string `json:"action_id"`
	DisplayName string `json:"display_name"`
	CreatedAt   Time   `json:"created_at,omitzero"`
	UpdatedAt   Time   `json:"updated_at,omitzero"`
}

// TriggerBindings is a trigger's ordered bindings: the actions it runs,
// first to last. It is one record, replaced as a whole.
type TriggerBindings struct {
	TriggerID string          `json:"trigger_id"`
	Bindings  []ActionBinding `json:"bindings"`

	// Version is the store version of the record; 0 when the trigger has
	// never been bound.
	Version uint64 `json:"-"`
}

// ActionError is a build error of a version on a node.
type ActionError struct {
	ID  string `json:"id"`
	Msg string `json:"msg"`
	URL string `json:"url,omitempty"`
}

// ActionStatus is one node's build result for one action version,
// written by that node's executor: ActionStatusBuilt or
// ActionStatusFailed with Errors.
type ActionStatus struct {
	Status  string        `json:"status"`
	Errors  []ActionError `json:"errors,omitempty"`
	BuiltAt Time          `json:"built_at,omitzero"`

	// NodeID and VersionID come from the record's key on read.
	NodeID    string `json:"-"`
	VersionID string `json:"-"`
	// Version is the store version of the record.
	Version uint64 `json:"-"`
}

// ActionExecution is the record of one run of a trigger's actions
// (written for failed runs).
type ActionExecution struct {
	ID        string                  `json:"id"`
	TriggerID string                  `json:"trigger_id"`
	Status    string                  `json:"status"`
	Results   []ActionExecutionResult `json:"results"`
	CreatedAt Time                    `json:"created_at,omitzero"`
	UpdatedAt Time                    `json:"updated_at,omitzero"`

	// Version is the store version of the record.
	Version uint64 `json:"-"`
}

// ActionExecutionResult is what one bound action did in an execution.
// Error is {id, msg, url}-like JSON when it failed (never a secret).
type ActionExecutionResult struct {
	ActionName string          `json:"action_name"`
	Error      json.RawMessage `json:"error,omitempty"`
	StartedAt  Time            `json:"started_at,omitzero"`
	EndedAt    Time            `json:"ended_at,omitzero"`
}

// ExecutionIDLength is the length of an execution id.
const ExecutionIDLength = 26

const crockford32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewExecutionID returns a ULID (48-bit millisecond time of t, 80 random
// bits read from r) in Crockford base32: ids sort by creation time.
func NewExecutionID(r io.Reader, t time.Time) (string, error) {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	if _, err := io.ReadFull(r, b[6:]); err != nil {
		return "", fmt.Errorf("model: read randomness: %w", err)
	}
	var out [ExecutionIDLength]byte
	// 128 bits as 26 digits of 5 bits; the first digit holds the top 3.
	for i := ExecutionIDLength - 1; i >= 0; i-- {
		low := 5 * (ExecutionIDLength - 1 - i) // lowest bit of digit i
		var v byte
		for k := 0; k < 5; k++ {
			pos := low + k
			if pos >= 128 {
				break
			}
			if b[15-pos/8]>>(pos%8)&1 == 1 {
				v |= 1 << k
			}
		}
		out[i] = crockford32[v]
	}
	return string(out[:]), nil
}
