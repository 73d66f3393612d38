package mgmtapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"net/http"
	"slices"
	"strconv"

	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
)

// maxBindings bounds a trigger's bindings (Authok runs at most 100).
const maxBindings = 100

// Binding reference types (ref.type).
const (
	refActionID   = "action_id"
	refActionName = "action_name"
	refBindingID  = "binding_id"
)

var bindingListSpec = &rest.ListSpec{
	Fields:   []string{"id", "trigger_id", "display_name", "action", "created_at", "updated_at"},
	Sortable: []string{},
}

// bindingView is a binding as the API renders it: its action in full.
type bindingView struct {
	ID          string     `json:"id"`
	TriggerID   string     `json:"trigger_id"`
	DisplayName string     `json:"display_name"`
	Action      actionView `json:"action"`
	CreatedAt   model.Time `json:"created_at,omitzero"`
	UpdatedAt   model.Time `json:"updated_at,omitzero"`
}

// bindingViews renders a trigger's bindings in order; a binding whose
// action is gone (deleted while the list was read) is left out.
func (a *API) bindingViews(ctx context.Context, tenant string, tb model.TriggerBindings) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(tb.Bindings))
	for _, b := range tb.Bindings {
		act, err := a.cfg.Repo.GetAction(ctx, tenant, b.ActionID)
		if errors.Is(err, repo.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		av, err := a.actionView(ctx, tenant, act)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(bindingView{ID: b.ID, TriggerID: tb.TriggerID, DisplayName: b.DisplayName, Action: av, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt})
		if err != nil {
			return nil, fmt.Errorf("mgmtapi: encode binding: %w", err)
		}
		out = append(out, raw)
	}
	return out, nil
}

func (a *API) getBindings(c *call) error {
	q, err := rest.ParseListQuery(c.r.URL.Query(), bindingListSpec)
	if err != nil {
		return err
	}
	t, err := pathTrigger(c)
	if err != nil {
		return err
	}
	tb, err := a.cfg.Repo.GetTriggerBindings(c.ctx(), c.tenant.Name, t.id)
	if err != nil {
		return err
	}
	raws, err := a.bindingViews(c.ctx(), c.tenant.Name, tb)
	if err != nil {
		return err
	}
	items := make([]rest.Item, 0, len(raws))
	for _, raw := range raws {
		it, err := rest.NewItem(raw)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	if tb.Version > 0 {
		c.w.Header().Set("ETag", rest.ETag(tb.Version))
	}
	return writeNamedPage(c.w, rest.Paginate(items, q), "bindings")
}

// bindingInput is one member of a PATCH body's bindings.
type bindingInput struct {
	refType, refValue string
	displayName       string
	hasDisplayName    bool
}

func parseBindings(o *rest.Object) ([]bindingInput, error) {
	list, ok := o.Objects("bindings")
	if !ok && !o.Has("bindings") {
		o.Missing("bindings")
	}
	if len(list) > maxBindings {
		o.Errs().Add("Invalid value for field bindings (at most %d)", maxBindings)
	}
	out := make([]bindingInput, 0, len(list))
	for _, bo := range list {
		var in bindingInput
		if ro, isNull, ok := bo.Object("ref"); ok && !isNull {
			ro.Enum("type", &in.refType, refActionID, refActionName, refBindingID)
			if !ro.Has("type") {
				ro.Missing("type")
			}
			if !ro.StringChecked("value", &in.refValue, rest.CheckText(maxIdentifierLen)) && !ro.Has("value") {
				ro.Missing("value")
			}
			ro.Finish()
		} else {
			if ok {
				ro.Finish()
			}
			bo.Missing("ref")
		}
		in.hasDisplayName = bo.StringChecked("display_name", &in.displayName, rest.CheckText(maxActionNameLen))
		if secrets, ok := bo.Objects("secrets"); ok {
			for _, s := range secrets {
				s.IgnoreAll()
			}
			if len(secrets) > 0 {
				bo.Errs().Add("Invalid value for field %s (binding secrets are not supported; set secrets on the action)", bo.Field("secrets"))
			}
		}
		bo.IgnoreReadOnly("string", "id", "trigger_id", "created_at", "updated_at")
		bo.IgnoreReadOnly("object", "action")
		bo.Finish()
		out = append(out, in)
	}
	o.Finish()
	return out, o.Errs().Err()
}

// updateBindings answers PATCH /actions/triggers/{trigger_id}/bindings:
// the body's list replaces the trigger's bindings, in its order. A
// binding_id ref keeps that binding; an action_id or action_name ref
// keeps the binding of that action if the trigger has one, else makes a
// new binding. Bindings left out are removed. Every bound action must
// support the trigger and be deployed, checked against the version of
// the action the write commits on.
func (a *API) updateBindings(c *call) error {
	t, err := pathTrigger(c)
	if err != nil {
		return err
	}
	o, err := rest.ReadObject(c.r, a.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	ins, err := parseBindings(o)
	if err != nil {
		return err
	}
	ids := make([]string, len(ins))
	for i := range ids {
		if ids[i], err = model.NewUUID(a.cfg.Rand); err != nil {
			return err
		}
	}
	want := rest.IfMatch(c.r)
	now := a.now()
	tenant := c.tenant.Name
	tb, err := a.cfg.Repo.UpdateTriggerBindings(c.ctx(), tenant, t.id, func(old model.TriggerBindings) (model.TriggerBindings, error) {
		if err := want.Check(old.Version); err != nil {
			return old, err
		}
		next := make([]model.ActionBinding, 0, len(ins))
		for i, in := range ins {
			field := fmt.Sprintf("bindings[%d].ref.value", i)
			var b model.ActionBinding
			switch in.refType {
			case refBindingID:
				j := slices.IndexFunc(old.Bindings, func(x model.ActionBinding) bool { return x.ID == in.refValue })
				if j < 0 {
					return old, rest.InvalidField("Invalid value %s (string) for field %s (trigger %s has no such binding)", strconv.Quote(in.refValue), field, t.id)
				}
				b = old.Bindings[j]
			default:
				var act model.Action
				var err error
				if in.refType == refActionName {
					act, err = a.cfg.Repo.GetActionByName(c.ctx(), tenant, in.refValue)
				} else {
					act, err = a.cfg.Repo.GetAction(c.ctx(), tenant, in.refValue)
				}
				if errors.Is(err, repo.ErrNotFound) {
					return old, rest.InvalidField("Invalid value %s (string) for field %s (no such action)", strconv.Quote(in.refValue), field)
				}
				if err != nil {
					return old, err
				}
				if j := slices.IndexFunc(old.Bindings, func(x model.ActionBinding) bool { return x.ActionID == act.ID }); j >= 0 {
					b = old.Bindings[j]
				} else {
					b = model.ActionBinding{ID: ids[i], ActionID: act.ID, DisplayName: act.Name, CreatedAt: now, UpdatedAt: now}
				}
			}
			if in.hasDisplayName && in.displayName != b.DisplayName {
				b.DisplayName, b.UpdatedAt = in.displayName, now
			}
			if slices.ContainsFunc(next, func(x model.ActionBinding) bool { return x.ActionID == b.ActionID || x.ID == b.ID }) {
				return old, rest.InvalidField("Invalid value %s (string) for field %s (the action is bound twice)", strconv.Quote(in.refValue), field)
			}
			next = append(next, b)
		}
		old.Bindings = next
		return old, nil
	}, func(b model.ActionBinding, act model.Action) error {
		if !slices.ContainsFunc(act.SupportedTriggers, func(x model.ActionTrigger) bool { return x.ID == t.id }) {
			return rest.InvalidField("Invalid value for field bindings (action %q does not support trigger %s; it supports %s)", act.Name, t.id, triggerList(act.SupportedTriggers))
		}
		if act.DeployedVersionID == "" {
			return rest.InvalidField("Invalid value for field bindings (action %q has never been deployed; deploy it before binding it)", act.Name)
		}
		return nil
	})
	if errors.Is(err, repo.ErrNotFound) {
		return rest.InvalidField("Invalid value for field bindings (a bound action was deleted meanwhile)")
	}
	if err != nil {
		var ae *apierror.Error
		if errors.As(err, &ae) {
			return ae
		}
		return repoError(err, what{codeInexistentTrigger, "bindings of trigger " + t.id}, t.id)
	}
	raws, err := a.bindingViews(c.ctx(), tenant, tb)
	if err != nil {
		return err
	}
	return rest.WriteJSON(c.w, http.StatusOK, map[string][]json.RawMessage{"bindings": raws}, tb.Version)
}
