package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/action"
	"github.com/authok-edge/authok/shared/repo"
	"github.com/authok-edge/authok/shared/store"
)

// retryAfter is how long a tenant whose load hit a store error (or whose
// status write failed) waits before it is loaded again.
const retryAfter = time.Second

// onEvent is the store subscription: it only notes which tenants changed
// and wakes the loader, so it is fast and never compiles.
func (e *Executor) onEvent(ev store.Event) {
	if ev.Reset {
		e.markAll()
		return
	}
	var tenants []string
	for _, k := range ev.Keys {
		if t, ok := actionsTenant(k); ok {
			tenants = append(tenants, t)
		}
	}
	if len(tenants) > 0 {
		e.mark(tenants...)
	}
}

// actionsTenant reports whether key is one the chains depend on (a
// tenant record, an action, a version, a trigger's bindings) and whose.
func actionsTenant(key []byte) (string, bool) {
	if rest, ok := strings.CutPrefix(string(key), "tenant/"); ok {
		t, err := url.PathUnescape(rest)
		return t, err == nil
	}
	info, ok := repo.ParseActionKey(key)
	if !ok {
		return "", false
	}
	switch info.Kind {
	case repo.ActionKeyAction, repo.ActionKeyVersion, repo.ActionKeyBindings:
		return info.Tenant, true
	}
	return "", false
}

func (e *Executor) mark(tenants ...string) {
	e.dmu.Lock()
	for _, t := range tenants {
		e.dirty[t] = true
	}
	e.dmu.Unlock()
	e.poke()
}

func (e *Executor) markAll() {
	e.dmu.Lock()
	e.dirtyAll = true
	e.dmu.Unlock()
	e.poke()
}

func (e *Executor) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Executor) takeDirty() (map[string]bool, bool) {
	e.dmu.Lock()
	defer e.dmu.Unlock()
	d, all := e.dirty, e.dirtyAll
	e.dirty, e.dirtyAll = map[string]bool{}, false
	return d, all
}

// loader owns what is loaded; only its goroutine touches it.
type loader struct {
	e *Executor
	// links are the loaded versions by sandbox key; byTenant the keys each
	// tenant's chains use.
	links    map[string]*link
	byTenant map[string]map[string]bool
	// reported holds the keys whose build status this node has recorded.
	reported map[string]bool
}

func newLoader(e *Executor) *loader {
	return &loader{e: e, links: map[string]*link{}, byTenant: map[string]map[string]bool{}, reported: map[string]bool{}}
}

func (l *loader) run(ctx context.Context) {
	first := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.e.wake:
		}
		dirty, all := l.e.takeDirty()
		if all {
			names, err := l.e.rec.tenants()
			if err != nil {
				l.e.log.Error("actions: listing tenants", "err", err)
				l.retry(ctx, "")
				continue
			}
			for _, t := range names {
				dirty[t] = true
			}
			for t := range l.byTenant { // deleted while we were away
				dirty[t] = true
			}
		}
		for t := range dirty {
			if ctx.Err() != nil {
				return
			}
			if err := l.reload(ctx, t); err != nil {
				l.e.log.Error("actions: loading a tenant's bound actions", "tenant", t, "err", err)
				l.retry(ctx, t)
			}
		}
		if first && all {
			first = false
			close(l.e.loadedCh)
		}
	}
}

// retry marks the tenant (or everything, for "") dirty again later.
func (l *loader) retry(ctx context.Context, tenant string) {
	time.AfterFunc(retryAfter, func() {
		if ctx.Err() != nil {
			return
		}
		if tenant == "" {
			l.e.markAll()
		} else {
			l.e.mark(tenant)
		}
	})
}

// reload rebuilds one tenant's chains from its records, loading what is
// new and unloading what no chain uses any more, and publishes them.
func (l *loader) reload(ctx context.Context, tenant string) error {
	timeout, ok, err := l.e.rec.tenant(tenant)
	if err != nil {
		return err
	}
	used := map[string]bool{}
	var ts *tenantState
	var fresh []*link
	if ok {
		ts = &tenantState{timeout: l.e.deadline(timeout)}
		for t := abi.PostLogin; t <= maxTrigger; t++ {
			bs, err := l.e.rec.bindings(tenant, t)
			if err != nil {
				return fmt.Errorf("bindings of %s: %w", t, err)
			}
			for _, b := range bs {
				lk, isNew, err := l.link(ctx, tenant, b)
				if err != nil {
					return err
				}
				if lk.key != "" {
					used[lk.key] = true
				}
				if isNew {
					fresh = append(fresh, lk)
				}
				ts.chains[t] = append(ts.chains[t], lk)
			}
		}
		empty := true
		for _, c := range ts.chains {
			empty = empty && len(c) == 0
		}
		if empty {
			ts = nil // nothing bound: the tenant costs nothing
		}
	}
	l.e.publish(tenant, ts)
	for k := range l.byTenant[tenant] {
		if !used[k] {
			l.e.rt.Unload(k)
			delete(l.links, k)
			delete(l.reported, k)
		}
	}
	if len(used) > 0 {
		l.byTenant[tenant] = used
	} else {
		delete(l.byTenant, tenant)
	}
	var failed error
	for _, lk := range fresh {
		if err := l.report(ctx, tenant, lk); err != nil {
			failed = err
		}
	}
	return failed
}

// link returns the binding's link, loading its deployed version unless
// it is loaded already. isNew says it was loaded now.
func (l *loader) link(ctx context.Context, tenant string, b bindingRec) (*link, bool, error) {
	a, err := l.e.rec.action(tenant, b.ActionID)
	if errors.Is(err, errNoRecord) {
		return &link{actionID: b.ActionID, buildErr: fmt.Sprintf("bound action %s does not exist", b.ActionID)}, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("action %s: %w", b.ActionID, err)
	}
	if a.DeployedVersion == "" {
		return &link{actionID: b.ActionID, actionName: a.Name, buildErr: fmt.Sprintf("action %q is bound but has no deployed version", a.Name)}, false, nil
	}
	key := versionKey(tenant, b.ActionID, a.DeployedVersion)
	if lk, ok := l.links[key]; ok {
		if lk.actionName != a.Name { // renamed: same version, new name
			c := *lk
			c.actionName = a.Name
			lk = &c
			l.links[key] = lk
		}
		return lk, false, nil
	}
	v, err := l.e.rec.version(tenant, b.ActionID, a.DeployedVersion)
	if err != nil && !errors.Is(err, errNoRecord) {
		return nil, false, fmt.Errorf("version %s of action %s: %w", a.DeployedVersion, b.ActionID, err)
	}
	lk := &link{actionID: b.ActionID, actionName: a.Name, versionID: a.DeployedVersion, number: v.Number, key: key}
	switch {
	case err != nil:
		lk.buildErr = fmt.Sprintf("deployed version %s of action %q does not exist", a.DeployedVersion, a.Name)
	case len(l.links) >= l.e.cfg.MaxVersions:
		lk.buildErr = fmt.Sprintf("this node has %d action versions loaded, its limit", l.e.cfg.MaxVersions)
	default:
		start := time.Now()
		if err := l.e.load(ctx, lk, v); err != nil {
			lk.buildErr = err.Error()
			l.e.log.Warn("actions: a deployed version failed to build", "tenant", tenant, "action", a.Name, "version_id", v.ID, "err", err)
		} else {
			l.e.log.Debug("actions: loaded", "tenant", tenant, "action", a.Name, "version_id", v.ID, "took", time.Since(start))
		}
	}
	l.links[key] = lk
	return lk, true, nil
}

// report writes this node's build result of a freshly loaded version,
// unless the same result is recorded already (a restart).
func (l *loader) report(ctx context.Context, tenant string, lk *link) error {
	if lk.versionID == "" || l.reported[lk.key] {
		return nil
	}
	st := buildRec{BuiltAt: l.e.cfg.Now().UTC()}
	if lk.buildErr != "" {
		st.Errors = []string{lk.buildErr}
	}
	old, ok, err := l.e.rec.buildStatus(tenant, lk.versionID, l.e.cfg.NodeID)
	if err == nil && ok && slicesEqual(old.Errors, st.Errors) {
		l.reported[lk.key] = true
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := l.e.rec.putBuildStatus(wctx, tenant, lk.versionID, l.e.cfg.NodeID, st); err != nil {
		return fmt.Errorf("recording the build status of version %s: %w", lk.versionID, err)
	}
	l.reported[lk.key] = true
	return nil
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// load compiles and loads a version into the sandbox.
func (e *Executor) load(ctx context.Context, lk *link, v versionRec) error {
	secrets := v.Secrets
	if secrets == nil {
		secrets = map[string]string{}
	}
	b, err := json.Marshal(secrets)
	if err != nil {
		return fmt.Errorf("encoding secrets: %w", err)
	}
	lk.secrets = b
	kind, err := action.ParseRuntime(v.Runtime)
	if err != nil {
		return err
	}
	switch kind {
	case action.KindWasm:
		ver, err := e.rt.Load(ctx, lk.key, v.Module)
		if err != nil {
			return err
		}
		lk.ver = ver
		return nil
	default:
		return e.loadJS(ctx, lk, v)
	}
}

// publish replaces one tenant's state in the snapshot (nil: nothing bound).
func (e *Executor) publish(tenant string, ts *tenantState) {
	old := e.state.Load()
	if ts == nil && old.tenants[tenant] == nil {
		return
	}
	next := &snapshot{tenants: maps.Clone(old.tenants)}
	if ts == nil {
		delete(next.tenants, tenant)
	} else {
		next.tenants[tenant] = ts
	}
	e.state.Store(next)
}

// deadline is a tenant's invocation deadline: its setting, or the
// default, capped by the node's maximum.
func (e *Executor) deadline(tenant time.Duration) time.Duration {
	if tenant <= 0 {
		tenant = DefaultTimeout
	}
	return min(tenant, e.cfg.MaxTimeout)
}

// versionKey is a version's sandbox key.
func versionKey(tenant, actionID, versionID string) string {
	return url.PathEscape(tenant) + "/" + url.PathEscape(actionID) + "/" + url.PathEscape(versionID)
}
