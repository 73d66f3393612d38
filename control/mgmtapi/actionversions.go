package mgmtapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"net/http"
	"slices"

	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/model"
)

// versionView is an action version as the API renders it (C.9), with the
// build status aggregated over the nodes that reported one.
type versionView struct {
	ID                string                   `json:"id"`
	ActionID          string                   `json:"action_id"`
	Action            *actionRef               `json:"action,omitempty"`
	Code              string                   `json:"code"`
	Dependencies      []model.ActionDependency `json:"dependencies"`
	Runtime           string                   `json:"runtime"`
	Secrets           []secretView             `json:"secrets"`
	SupportedTriggers []model.ActionTrigger    `json:"supported_triggers"`
	ModuleSize        int                      `json:"module_size,omitempty"`
	ModuleSHA256      string                   `json:"module_sha256,omitempty"`
	Deployed          bool                     `json:"deployed"`
	Number            int                      `json:"number"`
	Status            string                   `json:"status"`
	Errors            []model.ActionError      `json:"errors"`
	BuiltAt           model.Time               `json:"built_at,omitzero"`
	CreatedAt         model.Time               `json:"created_at,omitzero"`
	UpdatedAt         model.Time               `json:"updated_at,omitzero"`
}

// actionRef is the action a version belongs to, without its own versions.
type actionRef struct {
	ID                string                `json:"id"`
	Name              string                `json:"name"`
	SupportedTriggers []model.ActionTrigger `json:"supported_triggers"`
	CreatedAt         model.Time            `json:"created_at,omitzero"`
	UpdatedAt         model.Time            `json:"updated_at,omitzero"`
}

var versionListSpec = &rest.ListSpec{
	Fields: []string{
		"id", "action_id", "action", "code", "dependencies", "runtime", "secrets", "supported_triggers",
		"module_size", "module_sha256", "deployed", "number", "status", "errors", "built_at", "created_at", "updated_at",
	},
	Sortable: []string{"number", "created_at", "status"},
	Filters:  map[string]rest.FilterSpec{"deployed": {Boolean: true}},
}

// buildStatus aggregates the nodes' build results of a version: failed
// (with the first failed node's errors, in node id order) when any node
// failed, built when every node that reported built it (built_at the
// latest), pending when none reported yet.
func (a *API) buildStatus(ctx context.Context, tenant, versionID string) (string, []model.ActionError, model.Time, error) {
	ss, err := a.cfg.Repo.ListActionStatuses(ctx, tenant, versionID)
	if err != nil {
		return "", nil, model.Time{}, err
	}
	if len(ss) == 0 {
		return model.ActionStatusPending, []model.ActionError{}, model.Time{}, nil
	}
	var builtAt model.Time
	for _, s := range ss {
		if s.Status == model.ActionStatusFailed {
			errs := s.Errors
			if errs == nil {
				errs = []model.ActionError{}
			}
			return model.ActionStatusFailed, errs, model.Time{}, nil
		}
		if s.BuiltAt.After(builtAt.Time) {
			builtAt = s.BuiltAt
		}
	}
	return model.ActionStatusBuilt, []model.ActionError{}, builtAt, nil
}

func (a *API) versionView(ctx context.Context, tenant string, act model.Action, v model.ActionVersion) (versionView, error) {
	status, errs, builtAt, err := a.buildStatus(ctx, tenant, v.ID)
	if err != nil {
		return versionView{}, err
	}
	return versionView{
		ID: v.ID, ActionID: v.ActionID,
		Action: &actionRef{ID: act.ID, Name: act.Name, SupportedTriggers: act.SupportedTriggers, CreatedAt: act.CreatedAt, UpdatedAt: act.UpdatedAt},
		Code:   v.Code, Dependencies: v.Dependencies, Runtime: v.Runtime, Secrets: secretViews(v.Secrets),
		SupportedTriggers: v.SupportedTriggers, ModuleSize: len(v.Module), ModuleSHA256: moduleSum(v.Module),
		Deployed: v.ID == act.DeployedVersionID, Number: v.Number, Status: status, Errors: errs, BuiltAt: builtAt,
		CreatedAt: v.CreatedAt, UpdatedAt: v.CreatedAt,
	}, nil
}

func (a *API) renderVersion(ctx context.Context, tenant string, act model.Action) func(model.ActionVersion) ([]byte, error) {
	return func(v model.ActionVersion) ([]byte, error) {
		vv, err := a.versionView(ctx, tenant, act, v)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(vv)
		if err != nil {
			return nil, fmt.Errorf("mgmtapi: encode action version: %w", err)
		}
		return b, nil
	}
}

func (a *API) listActionVersions(c *call) error {
	q, err := rest.ParseListQuery(c.r.URL.Query(), versionListSpec)
	if err != nil {
		return err
	}
	act, err := a.findAction(c)
	if err != nil {
		return err
	}
	vs, err := a.cfg.Repo.ListActionVersions(c.ctx(), c.tenant.Name, act.ID)
	if err != nil {
		return err
	}
	items, err := rest.RenderAll(vs, a.versions(c, &act).Render)
	if err != nil {
		return err
	}
	return writeNamedPage(c.w, rest.Paginate(items, q), "versions")
}

// versions is the version resource of *act, read when a version is
// rendered (a get reads the action in its load).
func (a *API) versions(c *call, act *model.Action) rest.Resource[model.ActionVersion] {
	return rest.Resource[model.ActionVersion]{
		Spec:    versionListSpec,
		Render:  func(v model.ActionVersion) ([]byte, error) { return a.renderVersion(c.ctx(), c.tenant.Name, *act)(v) },
		Version: func(v model.ActionVersion) uint64 { return v.Version },
	}
}

func (a *API) getActionVersion(c *call) error {
	var act model.Action
	return a.versions(c, &act).Get(c.w, c.r, func() (model.ActionVersion, error) {
		var err error
		if act, err = a.findAction(c); err != nil {
			return model.ActionVersion{}, err
		}
		vid := c.r.PathValue("version_id")
		v, err := a.cfg.Repo.GetActionVersion(c.ctx(), c.tenant.Name, act.ID, vid)
		return v, repoError(err, whatActionVersion, vid)
	})
}

// readDeployBody reads the optional body of a deploy: none, null, or an
// object holding only the members allowed (update_draft for a
// roll-back). The Go SDKs send "null".
func (a *API) readDeployBody(c *call, rollback bool) (updateDraft bool, err error) {
	if c.r.ContentLength == 0 && c.r.Header.Get("Content-Type") == "" {
		return false, nil
	}
	data, err := readRawJSON(c.r, a.cfg.MaxBodyBytes)
	if err != nil || data == nil {
		return false, err
	}
	o, err := rest.ParseObject(data)
	if err != nil {
		return false, err
	}
	if rollback {
		o.Bool("update_draft", &updateDraft)
	}
	o.Finish()
	return updateDraft, o.Errs().Err()
}

// readRawJSON reads a JSON body that may be empty or null (nil then).
func readRawJSON(r *http.Request, max int64) ([]byte, error) {
	if err := rest.CheckContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	data, err := rest.ReadLimited(r, max)
	if err != nil {
		return nil, err
	}
	if t := string(bytes.TrimSpace(data)); t == "" || t == "null" {
		return nil, nil
	}
	return data, nil
}

// boundTriggers returns the triggers that bind actionID.
func (a *API) boundTriggers(ctx context.Context, tenant, actionID string) ([]string, error) {
	all, err := a.cfg.Repo.ListTriggerBindings(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, tb := range all {
		if slices.ContainsFunc(tb.Bindings, func(b model.ActionBinding) bool { return b.ActionID == actionID }) {
			out = append(out, tb.TriggerID)
		}
	}
	return out, nil
}

// deploy makes a new version from source (the draft, or a version rolled
// back to) after checking its code, and makes it the deployed one. A
// trigger that binds the action must stay among the version's triggers.
func (a *API) deploy(c *call, act model.Action, source func(cur model.Action) (model.Action, error), updateDraft bool) error {
	if _, err := a.runner("deployed"); err != nil {
		return err
	}
	k := a.newChecker(c.ctx())
	bound, err := a.boundTriggers(c.ctx(), c.tenant.Name, act.ID)
	if err != nil {
		return err
	}
	vid, err := model.NewUUID(a.cfg.Rand)
	if err != nil {
		return err
	}
	now := a.now()
	ver, stored, err := a.cfg.Repo.DeployAction(c.ctx(), c.tenant.Name, act.ID, func(cur model.Action, number int) (model.ActionVersion, model.Action, error) {
		src, err := source(cur)
		if err != nil {
			return model.ActionVersion{}, cur, err
		}
		if err := k.check(src); err != nil {
			return model.ActionVersion{}, cur, err
		}
		for _, t := range bound {
			if !slices.ContainsFunc(src.SupportedTriggers, func(x model.ActionTrigger) bool { return x.ID == t }) {
				return model.ActionVersion{}, cur, apierror.New(http.StatusBadRequest, codeOperationNotAllowed,
					fmt.Sprintf("The action is bound to trigger %q, which this version does not support; remove the binding first.", t))
			}
		}
		v := model.ActionVersion{
			ID: vid, Runtime: src.Runtime, Code: src.Code, Module: src.Module,
			SupportedTriggers: src.SupportedTriggers, Dependencies: src.Dependencies,
			Secrets: cur.Secrets, CreatedAt: now,
		}
		if updateDraft {
			cur.Runtime, cur.Code, cur.Module, cur.SupportedTriggers = src.Runtime, src.Code, src.Module, src.SupportedTriggers
			cur.UpdatedAt = now
		}
		return v, cur, nil
	})
	if err != nil {
		return repoError(err, whatAction, act.ID)
	}
	vv, err := a.versionView(c.ctx(), c.tenant.Name, stored, ver)
	if err != nil {
		return err
	}
	return rest.WriteJSON(c.w, http.StatusOK, vv, ver.Version)
}

// deployAction answers POST /actions/actions/{id}/deploy: the draft
// becomes version number+1 and runs wherever the action is bound.
func (a *API) deployAction(c *call) error {
	if _, err := a.readDeployBody(c, false); err != nil {
		return err
	}
	act, err := a.findAction(c)
	if err != nil {
		return err
	}
	return a.deploy(c, act, func(cur model.Action) (model.Action, error) { return cur, nil }, false)
}

// deployActionVersion answers POST .../versions/{version_id}/deploy: a
// roll-back. The version's code becomes a new version (with the action's
// current secrets) and is deployed; update_draft also makes it the draft.
func (a *API) deployActionVersion(c *call) error {
	updateDraft, err := a.readDeployBody(c, true)
	if err != nil {
		return err
	}
	act, err := a.findAction(c)
	if err != nil {
		return err
	}
	vid := c.r.PathValue("version_id")
	src, err := a.cfg.Repo.GetActionVersion(c.ctx(), c.tenant.Name, act.ID, vid)
	if err != nil {
		return repoError(err, whatActionVersion, vid)
	}
	return a.deploy(c, act, func(cur model.Action) (model.Action, error) {
		cur.Runtime, cur.Code, cur.Module, cur.SupportedTriggers = src.Runtime, src.Code, src.Module, src.SupportedTriggers
		return cur, nil
	}, updateDraft)
}
