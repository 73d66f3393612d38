package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
)

// repoRecords implements records over shared/repo.
type repoRecords struct{ r *repo.Repo }

func (rr repoRecords) tenants() ([]string, error) {
	var names []string
	after := ""
	for {
		ts, next, err := rr.r.ListTenants(context.Background(), after, repo.MaxListLimit)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			names = append(names, t.Name)
		}
		if next == "" {
			return names, nil
		}
		after = next
	}
}

func (rr repoRecords) tenant(name string) (time.Duration, bool, error) {
	t, err := rr.r.GetTenant(context.Background(), name)
	if errors.Is(err, repo.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return tenantTimeout(t), true, nil
}

func (rr repoRecords) bindings(tenant string, t abi.Trigger) ([]bindingRec, error) {
	tb, err := rr.r.GetTriggerBindings(context.Background(), tenant, t.ID())
	if err != nil {
		return nil, err
	}
	out := make([]bindingRec, 0, len(tb.Bindings))
	for _, b := range tb.Bindings {
		out = append(out, bindingRec{ID: b.ID, ActionID: b.ActionID})
	}
	return out, nil
}

func (rr repoRecords) action(tenant, id string) (actionRec, error) {
	a, err := rr.r.GetAction(context.Background(), tenant, id)
	if errors.Is(err, repo.ErrNotFound) {
		return actionRec{}, errNoRecord
	}
	if err != nil {
		return actionRec{}, err
	}
	return actionRec{Name: a.Name, DeployedVersion: a.DeployedVersionID}, nil
}

func (rr repoRecords) version(tenant, actionID, versionID string) (versionRec, error) {
	v, err := rr.r.GetActionVersion(context.Background(), tenant, actionID, versionID)
	if errors.Is(err, repo.ErrNotFound) {
		return versionRec{}, errNoRecord
	}
	if err != nil {
		return versionRec{}, err
	}
	out := versionRec{ID: v.ID, Number: v.Number, Runtime: v.Runtime, Source: v.Code, Module: v.Module, Secrets: model.SecretMap(v.Secrets)}
	for _, st := range v.SupportedTriggers {
		if t, err := abi.ParseTrigger(st.ID); err == nil {
			out.Triggers = append(out.Triggers, t)
		}
	}
	return out, nil
}

func (rr repoRecords) buildStatus(tenant, versionID, node string) (buildRec, bool, error) {
	all, err := rr.r.ListActionStatuses(context.Background(), tenant, versionID)
	if err != nil {
		return buildRec{}, false, err
	}
	for _, s := range all {
		if s.NodeID == node {
			var errs []string
			for _, e := range s.Errors {
				errs = append(errs, e.Msg)
			}
			return buildRec{Errors: errs, BuiltAt: s.BuiltAt.Time}, true, nil
		}
	}
	return buildRec{}, false, nil
}

func (rr repoRecords) putBuildStatus(ctx context.Context, tenant, versionID, node string, st buildRec) error {
	s := model.ActionStatus{Status: model.ActionStatusBuilt, BuiltAt: model.NewTime(st.BuiltAt)}
	if len(st.Errors) > 0 {
		s.Status = model.ActionStatusFailed
		for _, e := range st.Errors {
			s.Errors = append(s.Errors, model.ActionError{ID: "build_failed", Msg: e})
		}
	}
	return rr.r.PutActionStatus(ctx, tenant, versionID, node, s)
}

// executionError is an execution result's error (API.md C.9).
type executionError struct {
	ID         string `json:"id"`
	Msg        string `json:"msg"`
	VersionID  string `json:"version_id,omitempty"`
	Suppressed int    `json:"suppressed,omitempty"` // failures of the version not recorded since the previous record
}

func (rr repoRecords) putExecution(ctx context.Context, tenant string, ex executionRec) error {
	eb, err := json.Marshal(executionError{ID: "action_failed", Msg: ex.Error, VersionID: ex.VersionID, Suppressed: ex.Suppressed})
	if err != nil {
		return fmt.Errorf("encoding an execution error: %w", err)
	}
	return rr.r.PutExecution(ctx, tenant, model.ActionExecution{
		ID:        ex.ID,
		TriggerID: ex.Trigger.ID(),
		Status:    model.ExecutionStatusFailed,
		Results: []model.ActionExecutionResult{{
			ActionName: ex.ActionName, Error: eb,
			StartedAt: model.NewTime(ex.StartedAt), EndedAt: model.NewTime(ex.EndedAt),
		}},
		CreatedAt: model.NewTime(ex.EndedAt),
		UpdatedAt: model.NewTime(ex.EndedAt),
	})
}

// tenantTimeout is the tenant's Actions deadline setting (0: none).
func tenantTimeout(t model.Tenant) time.Duration {
	return time.Duration(t.ActionsTimeoutMS) * time.Millisecond
}
