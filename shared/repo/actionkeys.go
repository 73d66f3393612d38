package repo

import (
	"bytes"
	"fmt"
	"net/url"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
)

// Exported action keys and decoders, for the node-side executor, which
// watches the store's apply feed (store.Event.Keys) for the records it
// compiles and runs. The decoders are the ones the repository uses.

// ActionKeyKind names which action record a key holds.
type ActionKeyKind int

// The action record kinds (doc.go has their keys).
const (
	ActionKeyAction    ActionKeyKind = iota + 1 // t/<T>/action/<action_id>
	ActionKeyName                               // t/<T>/action-name/<name>
	ActionKeyVersion                            // t/<T>/action-version/<action_id>/<version_id>
	ActionKeyBindings                           // t/<T>/bindings/<trigger_id>
	ActionKeyStatus                             // t/<T>/action-status/<version_id>/<node_id>
	ActionKeyExecution                          // t/<T>/execution/<execution_id>
)

// ActionKeyInfo is what ParseActionKey read from a key.
type ActionKeyInfo struct {
	Kind   ActionKeyKind
	Tenant string
	// ID is the action id (ActionKeyAction, ActionKeyVersion), the name
	// (ActionKeyName), the trigger id (ActionKeyBindings), the version id
	// (ActionKeyStatus) or the execution id (ActionKeyExecution).
	ID string
	// Sub is the version id of an ActionKeyVersion and the node id of an
	// ActionKeyStatus.
	Sub string
}

var actionKeyKinds = []struct {
	seg  string
	kind ActionKeyKind
	two  bool // two variable segments
}{
	{"action", ActionKeyAction, false},
	{"action-name", ActionKeyName, false},
	{"action-version", ActionKeyVersion, true},
	{"bindings", ActionKeyBindings, false},
	{"action-status", ActionKeyStatus, true},
	{"execution", ActionKeyExecution, false},
}

// ParseActionKey reports whether key is one of the action records and
// which; ok is false for every other key.
func ParseActionKey(key []byte) (info ActionKeyInfo, ok bool) {
	rest, found := bytes.CutPrefix(key, []byte("t/"))
	if !found {
		return info, false
	}
	tseg, rest, found := bytes.Cut(rest, []byte("/"))
	if !found {
		return info, false
	}
	kseg, rest, found := bytes.Cut(rest, []byte("/"))
	if !found {
		return info, false
	}
	for _, k := range actionKeyKinds {
		if string(kseg) != k.seg {
			continue
		}
		parts := bytes.Split(rest, []byte("/"))
		if (k.two && len(parts) != 2) || (!k.two && len(parts) != 1) {
			return info, false
		}
		tenant, err := url.PathUnescape(string(tseg))
		if err != nil {
			return info, false
		}
		info = ActionKeyInfo{Kind: k.kind, Tenant: tenant}
		if info.ID, err = url.PathUnescape(string(parts[0])); err != nil || info.ID == "" {
			return ActionKeyInfo{}, false
		}
		if k.two {
			if info.Sub, err = url.PathUnescape(string(parts[1])); err != nil || info.Sub == "" {
				return ActionKeyInfo{}, false
			}
		}
		return info, true
	}
	return info, false
}

// statusKeyParts returns the version and node ids of a status key.
func statusKeyParts(key []byte) (versionID, nodeID string, err error) {
	info, ok := ParseActionKey(key)
	if !ok || info.Kind != ActionKeyStatus {
		return "", "", fmt.Errorf("repo: %q is not an action status key", key)
	}
	return info.ID, info.Sub, nil
}

// ActionKey is the key of an action record.
func ActionKey(tenant, id string) []byte { return actionKey(tenant, id) }

// ActionPrefix is the prefix of a tenant's action records.
func ActionPrefix(tenant string) []byte { return actionPrefix(tenant) }

// ActionNameKey is the name index key: its value is the action's id.
func ActionNameKey(tenant, name string) []byte { return actionNameKey(tenant, name) }

// ActionVersionKey is the key of an action version record.
func ActionVersionKey(tenant, actionID, versionID string) []byte {
	return actionVersionKey(tenant, actionID, versionID)
}

// TriggerBindingsKey is the key of a trigger's bindings record.
func TriggerBindingsKey(tenant, trigger string) []byte { return bindingsKey(tenant, trigger) }

// TriggerBindingsPrefix is the prefix of a tenant's bindings records.
func TriggerBindingsPrefix(tenant string) []byte { return bindingsPrefix(tenant) }

// ActionStatusKey is the key of a node's build status of a version.
func ActionStatusKey(tenant, versionID, nodeID string) []byte {
	return actionStatusKey(tenant, versionID, nodeID)
}

// ActionStatusPrefix is the prefix of every node's status of a version.
func ActionStatusPrefix(tenant, versionID string) []byte {
	return actionStatusPrefix(tenant, versionID)
}

// ExecutionKey is the key of an execution record.
func ExecutionKey(tenant, id string) []byte { return executionKey(tenant, id) }

// DecodeAction decodes an action record (an item read under ActionKey)
// and opens its secrets.
func (r *Repo) DecodeAction(it store.Item) (model.Action, error) {
	tenant, err := TenantOfKey(it.Key)
	if err != nil {
		return model.Action{}, err
	}
	return actionKind.decode(r, tenant, it)
}

// DecodeActionVersion decodes an action version record (an item read
// under ActionVersionKey) and opens its secrets.
func (r *Repo) DecodeActionVersion(it store.Item) (model.ActionVersion, error) {
	tenant, err := TenantOfKey(it.Key)
	if err != nil {
		return model.ActionVersion{}, err
	}
	return r.decodeVersion(tenant, it)
}

// DecodeTriggerBindings decodes a bindings record (an item read under
// TriggerBindingsKey).
func DecodeTriggerBindings(it store.Item) (model.TriggerBindings, error) { return decodeBindings(it) }

// DecodeActionStatus decodes a build status record (an item read under
// ActionStatusKey); its VersionID and NodeID come from the key.
func DecodeActionStatus(it store.Item) (model.ActionStatus, error) { return decodeActionStatus(it) }
