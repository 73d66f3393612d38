package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
)

type bindingsRecord struct {
	V        int                   `json:"v"`
	Bindings model.TriggerBindings `json:"trigger_bindings"`
}

func encodeBindings(tb model.TriggerBindings) ([]byte, error) {
	if tb.Bindings == nil {
		tb.Bindings = []model.ActionBinding{}
	}
	b, err := json.Marshal(bindingsRecord{V: recordVersion, Bindings: tb})
	if err != nil {
		return nil, fmt.Errorf("repo: encode bindings of trigger %q: %w", tb.TriggerID, err)
	}
	return b, nil
}

func decodeBindings(it store.Item) (model.TriggerBindings, error) {
	var rec bindingsRecord
	if err := decodeRecord(it, &rec, &rec.V); err != nil {
		return model.TriggerBindings{}, err
	}
	tb := rec.Bindings
	if tb.Bindings == nil {
		tb.Bindings = []model.ActionBinding{}
	}
	tb.Version = it.Version
	return tb, nil
}

// GetTriggerBindings returns a trigger's ordered bindings (trigger is its
// canonical id, as stored); a trigger never bound has none, at Version 0.
func (r *Repo) GetTriggerBindings(ctx context.Context, tenant, trigger string) (model.TriggerBindings, error) {
	tb, _, err := r.loadBindings(tenant, trigger)
	return tb, err
}

func (r *Repo) loadBindings(tenant, trigger string) (model.TriggerBindings, store.Item, error) {
	if err := checkID("trigger id", trigger); err != nil {
		return model.TriggerBindings{}, store.Item{}, err
	}
	it, err := r.st.Get(bindingsKey(tenant, trigger))
	if errors.Is(err, store.ErrNotFound) {
		return model.TriggerBindings{TriggerID: trigger, Bindings: []model.ActionBinding{}}, store.Item{}, nil
	}
	if err != nil {
		return model.TriggerBindings{}, store.Item{}, fmt.Errorf("repo: get bindings of trigger %q: %w", trigger, err)
	}
	tb, err := decodeBindings(it)
	return tb, it, err
}

// ListTriggerBindings returns the bindings of every trigger of the tenant
// that has a bindings record, in trigger id order.
func (r *Repo) ListTriggerBindings(ctx context.Context, tenant string) ([]model.TriggerBindings, error) {
	items, err := r.scanAll(bindingsPrefix(tenant))
	if err != nil {
		return nil, err
	}
	out := make([]model.TriggerBindings, 0, len(items))
	for _, it := range items {
		tb, err := decodeBindings(it)
		if err != nil {
			return nil, err
		}
		out = append(out, tb)
	}
	return out, nil
}

// BindingCheck validates one binding against the action it binds, as the
// write storing the bindings reads that action; its error is returned as
// is. The write is conditioned on that version of the action, so a
// binding checked against an action (deployed, supporting the trigger)
// never commits once the action has changed or gone.
type BindingCheck func(b model.ActionBinding, a model.Action) error

// UpdateTriggerBindings replaces a trigger's bindings with what fn returns
// from the current ones, in one compare-and-swap write (retried on
// concurrent writes; ErrConflict if they persist). Every bound action
// must exist (ErrNotFound naming it) and pass check; binding ids must be
// unique. fn may run several times and must not have side effects.
func (r *Repo) UpdateTriggerBindings(ctx context.Context, tenant, trigger string, fn func(old model.TriggerBindings) (model.TriggerBindings, error), check BindingCheck) (model.TriggerBindings, error) {
	if err := checkTenantName(tenant); err != nil {
		return model.TriggerBindings{}, err
	}
	var out model.TriggerBindings
	err := r.retryStale(ctx, fmt.Sprintf("bindings of trigger %q", trigger), func() error {
		old, it, err := r.loadBindings(tenant, trigger)
		if err != nil {
			return err
		}
		mine := old
		mine.Bindings = append([]model.ActionBinding(nil), old.Bindings...)
		nv, err := fn(mine)
		if err != nil {
			return err
		}
		nv.TriggerID, nv.Version = trigger, 0
		b := r.NewBatch()
		key := bindingsKey(tenant, trigger)
		if old.Version == 0 {
			b.absent(key, errStale)
		} else {
			b.atVersion(key, it.Version, errStale)
		}
		seen := map[string]bool{}
		checked := map[string]bool{}
		for _, x := range nv.Bindings {
			if err := checkID("binding id", x.ID); err != nil {
				return err
			}
			if seen[x.ID] {
				return fmt.Errorf("%w: binding %q given twice", ErrInvalid, x.ID)
			}
			seen[x.ID] = true
			a, ait, err := load(r, actionKind, tenant, x.ActionID)
			if err != nil {
				return err
			}
			if check != nil {
				if err := check(x, a); err != nil {
					return err
				}
			}
			if !checked[x.ActionID] {
				checked[x.ActionID] = true
				b.atVersion(ait.Key, ait.Version, errStale)
			}
		}
		enc, err := encodeBindings(nv)
		if err != nil {
			return err
		}
		if err := b.put(key, enc); err != nil {
			return err
		}
		b.require(tenantKey(tenant), fmt.Errorf("%w: tenant %q", ErrNotFound, tenant))
		idx, err := r.Commit(ctx, b)
		if err != nil {
			return err
		}
		if nv.Bindings == nil {
			nv.Bindings = []model.ActionBinding{}
		}
		nv.Version = idx
		out = nv
		return nil
	})
	return out, err
}

// ---- build status ----

type actionStatusRecord struct {
	V      int                `json:"v"`
	Status model.ActionStatus `json:"action_status"`
}

func decodeActionStatus(it store.Item) (model.ActionStatus, error) {
	var rec actionStatusRecord
	if err := decodeRecord(it, &rec, &rec.V); err != nil {
		return model.ActionStatus{}, err
	}
	s := rec.Status
	s.Version = it.Version
	vid, node, err := statusKeyParts(it.Key)
	if err != nil {
		return model.ActionStatus{}, err
	}
	s.VersionID, s.NodeID = vid, node
	return s, nil
}

// PutActionStatus records node's build result for an action version
// (model.ActionStatusBuilt, or ActionStatusFailed with its errors),
// replacing the node's previous one. The node's executor writes it.
func (r *Repo) PutActionStatus(ctx context.Context, tenant, versionID, nodeID string, s model.ActionStatus) error {
	if err := checkTenantName(tenant); err != nil {
		return err
	}
	if err := checkID("action version id", versionID); err != nil {
		return err
	}
	if err := checkID("node id", nodeID); err != nil {
		return err
	}
	if s.Status != model.ActionStatusBuilt && s.Status != model.ActionStatusFailed {
		return fmt.Errorf("%w: action status %q (built or failed)", ErrInvalid, s.Status)
	}
	s.NodeID, s.VersionID, s.Version = "", "", 0
	enc, err := json.Marshal(actionStatusRecord{V: recordVersion, Status: s})
	if err != nil {
		return fmt.Errorf("repo: encode action status: %w", err)
	}
	b := r.NewBatch()
	if err := b.put(actionStatusKey(tenant, versionID, nodeID), enc); err != nil {
		return err
	}
	b.require(tenantKey(tenant), fmt.Errorf("%w: tenant %q", ErrNotFound, tenant))
	_, err = r.Commit(ctx, b)
	return err
}

// ListActionStatuses returns every node's build result for a version, in
// node id order.
func (r *Repo) ListActionStatuses(ctx context.Context, tenant, versionID string) ([]model.ActionStatus, error) {
	items, err := r.scanAll(actionStatusPrefix(tenant, versionID))
	if err != nil {
		return nil, err
	}
	out := make([]model.ActionStatus, 0, len(items))
	for _, it := range items {
		s, err := decodeActionStatus(it)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ---- executions ----

type executionRecord struct {
	V         int                   `json:"v"`
	Execution model.ActionExecution `json:"execution"`
}

// PutExecution stores an execution record (its id must be new:
// ErrDuplicate), expiring model.ExecutionTTL after the repository's
// clock. The executor writes them for failed runs.
func (r *Repo) PutExecution(ctx context.Context, tenant string, e model.ActionExecution) error {
	if err := checkTenantName(tenant); err != nil {
		return err
	}
	if err := checkID("execution id", e.ID); err != nil {
		return err
	}
	if e.Results == nil {
		e.Results = []model.ActionExecutionResult{}
	}
	e.Version = 0
	enc, err := json.Marshal(executionRecord{V: recordVersion, Execution: e})
	if err != nil {
		return fmt.Errorf("repo: encode execution %q: %w", e.ID, err)
	}
	now := r.now()
	key := executionKey(tenant, e.ID)
	_, err = r.st.Apply(ctx, store.Txn{
		Conds: []store.Cond{store.Present(tenantKey(tenant)), store.Absent(key)},
		Ops:   []store.Op{store.PutExpiring(key, enc, now.Add(model.ExecutionTTL))},
		Now:   now,
	})
	var ce *store.ConflictError
	switch {
	case errors.As(err, &ce) && ce.Cond == 0:
		return fmt.Errorf("%w: tenant %q", ErrNotFound, tenant)
	case errors.As(err, &ce):
		return fmt.Errorf("%w: execution %q already exists", ErrDuplicate, e.ID)
	case err != nil:
		return fmt.Errorf("repo: put execution %q: %w", e.ID, err)
	}
	return nil
}

// GetExecution returns an execution record that has not expired.
func (r *Repo) GetExecution(ctx context.Context, tenant, id string) (model.ActionExecution, error) {
	if id == "" {
		return model.ActionExecution{}, fmt.Errorf("%w: execution %q", ErrNotFound, id)
	}
	it, err := r.st.Get(executionKey(tenant, id))
	if errors.Is(err, store.ErrNotFound) {
		return model.ActionExecution{}, fmt.Errorf("%w: execution %q", ErrNotFound, id)
	}
	if err != nil {
		return model.ActionExecution{}, fmt.Errorf("repo: get execution %q: %w", id, err)
	}
	var rec executionRecord
	if err := decodeRecord(it, &rec, &rec.V); err != nil {
		return model.ActionExecution{}, err
	}
	e := rec.Execution
	e.Version = it.Version
	return e, nil
}

// lastSegment unescapes the last segment of key.
func lastSegment(key []byte) (string, error) {
	s := string(key)
	i := len(s) - 1
	for i >= 0 && s[i] != '/' {
		i--
	}
	seg, err := url.PathUnescape(s[i+1:])
	if err != nil {
		return "", fmt.Errorf("repo: key %q: %w", key, err)
	}
	return seg, nil
}
