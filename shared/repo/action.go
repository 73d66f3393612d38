package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/store"
)

// Actions (API.md C.9): the action record with its draft and sealed
// secrets, the name index, immutable versions, per-trigger bindings,
// per-node build status and expiring executions. Keys are in doc.go;
// actionkeys.go exports them for the executor's watch.

func actionPrefix(tenant string) []byte  { return []byte(scope(tenant) + "action/") }
func actionKey(tenant, id string) []byte { return []byte(scope(tenant) + "action/" + esc(id)) }
func actionNameKey(tenant, name string) []byte {
	return []byte(scope(tenant) + "action-name/" + esc(name))
}
func actionVersionPrefix(tenant, actionID string) []byte {
	return []byte(scope(tenant) + "action-version/" + esc(actionID) + "/")
}
func actionVersionKey(tenant, actionID, versionID string) []byte {
	return []byte(scope(tenant) + "action-version/" + esc(actionID) + "/" + esc(versionID))
}
func bindingsPrefix(tenant string) []byte { return []byte(scope(tenant) + "bindings/") }
func bindingsKey(tenant, trigger string) []byte {
	return []byte(scope(tenant) + "bindings/" + esc(trigger))
}
func actionStatusPrefix(tenant, versionID string) []byte {
	return []byte(scope(tenant) + "action-status/" + esc(versionID) + "/")
}
func actionStatusKey(tenant, versionID, nodeID string) []byte {
	return []byte(scope(tenant) + "action-status/" + esc(versionID) + "/" + esc(nodeID))
}
func executionKey(tenant, id string) []byte { return []byte(scope(tenant) + "execution/" + esc(id)) }

// sealedSecret is a secret as stored: its name and time in clear, its
// value sealed.
type sealedSecret struct {
	Name      string     `json:"name"`
	UpdatedAt model.Time `json:"updated_at,omitzero"`
	Sealed    []byte     `json:"sealed"`
}

type actionRecord struct {
	V      int          `json:"v"`
	Action model.Action `json:"action"` // secrets without values
	// Module is the draft's WebAssembly module (runtime wasm).
	Module  []byte         `json:"module,omitempty"`
	Secrets []sealedSecret `json:"sealed_secrets,omitempty"`
}

func actionSecretAD(tenant, actionID, name string) []byte {
	return []byte("authok/action_secret\x00" + tenant + "\x00" + actionID + "\x00" + name)
}

func actionVersionSecretAD(tenant, actionID, versionID, name string) []byte {
	return []byte("authok/action_version_secret\x00" + tenant + "\x00" + actionID + "\x00" + versionID + "\x00" + name)
}

// sealSecrets seals each secret's value under ad(name); the returned
// list carries names and times without values.
func (r *Repo) sealSecrets(secrets []model.ActionSecret, ad func(name string) []byte) ([]model.ActionSecret, []sealedSecret, error) {
	clear := make([]model.ActionSecret, 0, len(secrets))
	sealed := make([]sealedSecret, 0, len(secrets))
	for _, s := range secrets {
		box, err := r.box.Seal([]byte(s.Value.Reveal()), ad(s.Name))
		if err != nil {
			return nil, nil, fmt.Errorf("repo: seal secret %q: %w", s.Name, err)
		}
		sealed = append(sealed, sealedSecret{Name: s.Name, UpdatedAt: s.UpdatedAt, Sealed: box})
		clear = append(clear, model.ActionSecret{Name: s.Name, UpdatedAt: s.UpdatedAt})
	}
	return clear, sealed, nil
}

func (r *Repo) openSecrets(sealed []sealedSecret, ad func(name string) []byte) ([]model.ActionSecret, error) {
	out := make([]model.ActionSecret, 0, len(sealed))
	for _, s := range sealed {
		pt, err := r.box.Open(s.Sealed, ad(s.Name))
		if err != nil {
			return nil, fmt.Errorf("repo: open secret %q: %w", s.Name, err)
		}
		out = append(out, model.ActionSecret{Name: s.Name, Value: model.Secret(pt), UpdatedAt: s.UpdatedAt})
	}
	return out, nil
}

func checkSecrets(secrets []model.ActionSecret) error {
	seen := map[string]bool{}
	for _, s := range secrets {
		if err := checkID("action secret name", s.Name); err != nil {
			return err
		}
		if seen[s.Name] {
			return fmt.Errorf("%w: action secret %q given twice", ErrInvalid, s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

func normalizeAction(a model.Action) model.Action {
	if a.SupportedTriggers == nil {
		a.SupportedTriggers = []model.ActionTrigger{}
	}
	if a.Dependencies == nil {
		a.Dependencies = []model.ActionDependency{}
	}
	if a.Secrets == nil {
		a.Secrets = []model.ActionSecret{}
	}
	return a
}

var actionKind = kind[model.Action]{
	name:   "action",
	key:    actionKey,
	prefix: actionPrefix,
	id:     func(a model.Action) string { return a.ID },
	prepare: func(tenant string, a model.Action) (model.Action, error) {
		if err := checkTenantName(tenant); err != nil {
			return a, err
		}
		if err := checkID("action id", a.ID); err != nil {
			return a, err
		}
		if err := checkID("action name", a.Name); err != nil {
			return a, err
		}
		if err := checkSecrets(a.Secrets); err != nil {
			return a, err
		}
		a = normalizeAction(a)
		a.Version = 0
		return a, nil
	},
	index: func(tenant string, a model.Action) []indexEntry {
		return []indexEntry{{
			key:   actionNameKey(tenant, a.Name),
			value: []byte(a.ID),
			what:  fmt.Sprintf("action named %q already exists", a.Name),
		}}
	},
	refs: func(tenant string, _ model.Action) []requirement { return []requirement{tenantRequired(tenant)} },
	immutable: func(old, nv model.Action) error {
		if old.LatestVersionNumber != nv.LatestVersionNumber || old.DeployedVersionID != nv.DeployedVersionID {
			return fmt.Errorf("%w: an action's versions change only by deploying", ErrInvalid)
		}
		return nil
	},
	encode: func(r *Repo, tenant string, a model.Action) ([]byte, error) {
		rec := actionRecord{V: recordVersion, Action: a, Module: a.Module}
		var err error
		rec.Action.Secrets, rec.Secrets, err = r.sealSecrets(a.Secrets, func(name string) []byte {
			return actionSecretAD(tenant, a.ID, name)
		})
		if err != nil {
			return nil, fmt.Errorf("repo: action %q: %w", a.ID, err)
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return nil, fmt.Errorf("repo: encode action %q: %w", a.ID, err)
		}
		return b, nil
	},
	decode: func(r *Repo, tenant string, it store.Item) (model.Action, error) {
		var rec actionRecord
		if err := decodeRecord(it, &rec, &rec.V); err != nil {
			return model.Action{}, err
		}
		a := rec.Action
		a.Module = rec.Module
		secrets, err := r.openSecrets(rec.Secrets, func(name string) []byte { return actionSecretAD(tenant, a.ID, name) })
		if err != nil {
			return model.Action{}, fmt.Errorf("repo: action %q: %w", a.ID, err)
		}
		a.Secrets = secrets
		a = normalizeAction(a)
		a.Version = it.Version
		return a, nil
	},
}

func setActionVersion(a *model.Action, v uint64) { a.Version = v }

// CreateAction creates a (its id and its name must be free in the
// tenant: ErrDuplicate) with its secrets sealed. It has no version until
// DeployAction makes one.
func (r *Repo) CreateAction(ctx context.Context, tenant string, a model.Action) (model.Action, error) {
	a.DeployedVersionID, a.LatestVersionNumber = "", 0
	return create(ctx, r, actionKind, tenant, a, setActionVersion)
}

// GetAction returns an action (its draft) with its secrets opened.
func (r *Repo) GetAction(ctx context.Context, tenant, id string) (model.Action, error) {
	return get(r, actionKind, tenant, id)
}

// GetActionByName returns the tenant's action named name.
func (r *Repo) GetActionByName(ctx context.Context, tenant, name string) (model.Action, error) {
	if name == "" {
		return model.Action{}, fmt.Errorf("%w: action with an empty name", ErrNotFound)
	}
	return getByIndex(r, actionKind, tenant, actionNameKey(tenant, name), fmt.Sprintf("action named %q", name),
		func(a model.Action) bool { return a.Name == name })
}

// ListActions returns up to limit actions in id order after the id after
// ("" = from the start), and the next cursor ("" at the end).
func (r *Repo) ListActions(ctx context.Context, tenant, after string, limit int) ([]model.Action, string, error) {
	return list(r, actionKind, tenant, after, limit)
}

// UpdateAction applies fn to the action's draft with compare-and-swap
// (see UpdateClient); the name index follows a rename (ErrDuplicate when
// the new name is taken). fn cannot change the id, the deployed version
// or the version count: DeployAction does.
func (r *Repo) UpdateAction(ctx context.Context, tenant, id string, fn func(old model.Action) (model.Action, error)) (model.Action, error) {
	return update(ctx, r, actionKind, tenant, id, fn, setActionVersion)
}

// DeleteAction deletes an action with its name index, its versions and
// their build status records, in one transaction. An action some trigger
// binds is refused with ErrInUse, unless force, which removes those
// bindings in the same transaction (each conditioned on its version).
// A binding created while the delete was in flight is swept afterwards,
// as client grants are.
func (r *Repo) DeleteAction(ctx context.Context, tenant, id string, force bool) error {
	_, err := deleteRecord(ctx, r, actionKind, tenant, id, nil, func(b *Batch, a model.Action) error {
		if err := r.unbind(b, tenant, id, force); err != nil {
			return err
		}
		versions, err := r.scanAll(actionVersionPrefix(tenant, id))
		if err != nil {
			return err
		}
		for _, v := range versions {
			b.del(v.Key)
			vid, err := lastSegment(v.Key)
			if err != nil {
				return err
			}
			statuses, err := r.scanAll(actionStatusPrefix(tenant, vid))
			if err != nil {
				return err
			}
			for _, s := range statuses {
				b.del(s.Key)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.retryStale(ctx, fmt.Sprintf("sweep the bindings of action %q", id), func() error {
		b := r.NewBatch()
		if err := r.unbind(b, tenant, id, true); err != nil {
			return err
		}
		if b.Len() == 0 {
			return nil
		}
		_, err := r.Commit(ctx, b)
		return err
	})
}

// unbind adds to b the rewrite of every trigger's bindings without those
// of actionID, each conditioned on its version; without force a bound
// action is ErrInUse.
func (r *Repo) unbind(b *Batch, tenant, actionID string, force bool) error {
	items, err := r.scanAll(bindingsPrefix(tenant))
	if err != nil {
		return err
	}
	for _, it := range items {
		tb, err := decodeBindings(it)
		if err != nil {
			return err
		}
		kept := slices.DeleteFunc(slices.Clone(tb.Bindings), func(x model.ActionBinding) bool { return x.ActionID == actionID })
		if len(kept) == len(tb.Bindings) {
			continue
		}
		if !force {
			return fmt.Errorf("%w: action %q is bound to trigger %q", ErrInUse, actionID, tb.TriggerID)
		}
		tb.Bindings = kept
		enc, err := encodeBindings(tb)
		if err != nil {
			return err
		}
		b.atVersion(it.Key, it.Version, errStale)
		if err := b.put(it.Key, enc); err != nil {
			return err
		}
	}
	return nil
}

// ---- versions ----

type actionVersionRecord struct {
	V       int                 `json:"v"`
	Version model.ActionVersion `json:"action_version"` // secrets without values
	Module  []byte              `json:"module,omitempty"`
	Secrets []sealedSecret      `json:"sealed_secrets,omitempty"`
}

func (r *Repo) encodeVersion(tenant string, v model.ActionVersion) ([]byte, error) {
	rec := actionVersionRecord{V: recordVersion, Version: v, Module: v.Module}
	var err error
	rec.Version.Secrets, rec.Secrets, err = r.sealSecrets(v.Secrets, func(name string) []byte {
		return actionVersionSecretAD(tenant, v.ActionID, v.ID, name)
	})
	if err != nil {
		return nil, fmt.Errorf("repo: action version %q: %w", v.ID, err)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("repo: encode action version %q: %w", v.ID, err)
	}
	return b, nil
}

func (r *Repo) decodeVersion(tenant string, it store.Item) (model.ActionVersion, error) {
	var rec actionVersionRecord
	if err := decodeRecord(it, &rec, &rec.V); err != nil {
		return model.ActionVersion{}, err
	}
	v := rec.Version
	v.Module = rec.Module
	secrets, err := r.openSecrets(rec.Secrets, func(name string) []byte {
		return actionVersionSecretAD(tenant, v.ActionID, v.ID, name)
	})
	if err != nil {
		return model.ActionVersion{}, fmt.Errorf("repo: action version %q: %w", v.ID, err)
	}
	v.Secrets = secrets
	if v.SupportedTriggers == nil {
		v.SupportedTriggers = []model.ActionTrigger{}
	}
	if v.Dependencies == nil {
		v.Dependencies = []model.ActionDependency{}
	}
	v.Version = it.Version
	return v, nil
}

// DeployBuild makes the version a deploy creates: given the action as the
// deploy reads it and the number the new version gets, it returns the
// version (its ID set by the caller) and the action as it will be stored
// (a roll-back may also replace the draft). It may run several times and
// must not have side effects; its error is returned as is.
type DeployBuild func(a model.Action, number int) (model.ActionVersion, model.Action, error)

// DeployAction creates a new immutable version of the action with build
// and makes it the deployed one, in one transaction conditioned on the
// action's version: versions are numbered 1, 2, ... per action without
// gaps or repeats. It returns the version and the action as stored.
func (r *Repo) DeployAction(ctx context.Context, tenant, actionID string, build DeployBuild) (model.ActionVersion, model.Action, error) {
	var outV model.ActionVersion
	var outA model.Action
	err := r.retryStale(ctx, fmt.Sprintf("deploy action %q", actionID), func() error {
		a, it, err := load(r, actionKind, tenant, actionID)
		if err != nil {
			return err
		}
		mine, err := actionKind.decode(r, tenant, it)
		if err != nil {
			return err
		}
		number := a.LatestVersionNumber + 1
		v, na, err := build(mine, number)
		if err != nil {
			return err
		}
		if err := checkID("action version id", v.ID); err != nil {
			return err
		}
		if err := checkSecrets(v.Secrets); err != nil {
			return err
		}
		v.ActionID, v.Number, v.Version = actionID, number, 0
		na, err = actionKind.prepare(tenant, na)
		if err != nil {
			return err
		}
		if na.ID != a.ID || na.Name != a.Name {
			return fmt.Errorf("%w: a deploy cannot change the action's id or name", ErrInvalid)
		}
		na.DeployedVersionID, na.LatestVersionNumber = v.ID, number
		encA, err := actionKind.encode(r, tenant, na)
		if err != nil {
			return err
		}
		encV, err := r.encodeVersion(tenant, v)
		if err != nil {
			return err
		}
		b := r.NewBatch()
		b.atVersion(it.Key, it.Version, errStale)
		if err := b.put(it.Key, encA); err != nil {
			return err
		}
		if err := b.create(fmt.Sprintf("action version %q", v.ID), actionVersionKey(tenant, actionID, v.ID), encV, nil); err != nil {
			return err
		}
		idx, err := r.Commit(ctx, b)
		if err != nil {
			return err
		}
		v.Version, na.Version = idx, idx
		outV, outA = v, na
		return nil
	})
	return outV, outA, err
}

// GetActionVersion returns one version of an action with its secrets
// opened: what the executor compiles and runs.
func (r *Repo) GetActionVersion(ctx context.Context, tenant, actionID, versionID string) (model.ActionVersion, error) {
	if actionID == "" || versionID == "" {
		return model.ActionVersion{}, fmt.Errorf("%w: action version %q of action %q", ErrNotFound, versionID, actionID)
	}
	it, err := r.st.Get(actionVersionKey(tenant, actionID, versionID))
	if errors.Is(err, store.ErrNotFound) {
		return model.ActionVersion{}, fmt.Errorf("%w: action version %q of action %q", ErrNotFound, versionID, actionID)
	}
	if err != nil {
		return model.ActionVersion{}, fmt.Errorf("repo: get action version %q: %w", versionID, err)
	}
	return r.decodeVersion(tenant, it)
}

// ListActionVersions returns every version of an action, newest (highest
// number) first.
func (r *Repo) ListActionVersions(ctx context.Context, tenant, actionID string) ([]model.ActionVersion, error) {
	items, err := r.scanAll(actionVersionPrefix(tenant, actionID))
	if err != nil {
		return nil, err
	}
	out := make([]model.ActionVersion, 0, len(items))
	for _, it := range items {
		v, err := r.decodeVersion(tenant, it)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b model.ActionVersion) int { return b.Number - a.Number })
	return out, nil
}
