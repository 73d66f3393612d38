package mgmtapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/action"
	"github.com/authok-edge/authok/actions-runtime/sandbox"
	"github.com/authok-edge/authok/control/internal/apierror"
	"github.com/authok-edge/authok/shared/model"
	"github.com/authok-edge/authok/shared/repo"
)

// DefaultMaxModuleBytes caps an uploaded WebAssembly module unless Config
// says otherwise (413 beyond). The control server's request body limit
// must fit it (base64 in JSON takes 4/3 of it).
const DefaultMaxModuleBytes = 8 << 20

// Limits of action fields.
const (
	maxActionNameLen    = 100
	maxActionCodeBytes  = 256 << 10
	maxActionSecrets    = 50
	maxSecretNameLen    = 128
	maxSecretValueBytes = 4 << 10
	maxTriggerVersion   = 32
	// actionJSONSlack is what a JSON action body may hold beyond its
	// base64 module.
	actionJSONSlack = 1 << 20
)

// errorCode values of the Actions routes.
const (
	codeInexistentAction        = "inexistent_action"
	codeInexistentActionVersion = "inexistent_action_version"
	codeInexistentTrigger       = "inexistent_trigger"
	codeInexistentExecution     = "inexistent_execution"
	codeInvalidActionCode       = "invalid_action_code"
	codeNotImplemented          = "not_implemented"
)

var (
	whatAction        = what{codeInexistentAction, "action"}
	whatActionVersion = what{codeInexistentActionVersion, "action version"}
	whatExecution     = what{codeInexistentExecution, "execution"}
)

// mediaWasm is the Content-Type of a raw module upload.
const mediaWasm = "application/wasm"

var actionRuntimes = []string{action.RuntimeNode16, action.RuntimeNode18, action.RuntimeNode20, action.RuntimeWasm}

var actionListSpec = &rest.ListSpec{
	Fields: []string{
		"id", "name", "supported_triggers", "code", "dependencies", "runtime", "secrets", "module_size",
		"module_sha256", "deployed_version", "status", "all_changes_deployed", "built_at", "created_at", "updated_at",
	},
	Sortable: []string{"id", "name", "runtime", "status", "created_at", "updated_at"},
	Filters: map[string]rest.FilterSpec{
		"trigger_id":  {},
		"trigger":     {},
		"action_name": {},
		"deployed":    {Boolean: true},
		"installed":   {Boolean: true},
	},
}

// ---- views ----

// secretView is a secret as the API shows it: never its value.
type secretView struct {
	Name      string     `json:"name"`
	UpdatedAt model.Time `json:"updated_at,omitzero"`
}

func secretViews(ss []model.ActionSecret) []secretView {
	out := make([]secretView, 0, len(ss))
	for _, s := range ss {
		out = append(out, secretView{Name: s.Name, UpdatedAt: s.UpdatedAt})
	}
	return out
}

// actionView is an action as the API renders it (C.9). A wasm module is
// never echoed: module_size and module_sha256 say which one is stored.
type actionView struct {
	ID                 string                   `json:"id"`
	Name               string                   `json:"name"`
	SupportedTriggers  []model.ActionTrigger    `json:"supported_triggers"`
	Code               string                   `json:"code"`
	Dependencies       []model.ActionDependency `json:"dependencies"`
	Runtime            string                   `json:"runtime"`
	Secrets            []secretView             `json:"secrets"`
	ModuleSize         int                      `json:"module_size,omitempty"`
	ModuleSHA256       string                   `json:"module_sha256,omitempty"`
	DeployedVersion    *versionView             `json:"deployed_version,omitempty"`
	Status             string                   `json:"status"`
	AllChangesDeployed bool                     `json:"all_changes_deployed"`
	BuiltAt            model.Time               `json:"built_at,omitzero"`
	CreatedAt          model.Time               `json:"created_at,omitzero"`
	UpdatedAt          model.Time               `json:"updated_at,omitzero"`
}

func moduleSum(m []byte) string {
	if len(m) == 0 {
		return ""
	}
	s := sha256.Sum256(m)
	return hex.EncodeToString(s[:])
}

// renderAction renders an action with its deployed version and the build
// status its nodes reported.
func (a *API) renderAction(ctx context.Context, tenant string, act model.Action) ([]byte, error) {
	v, err := a.actionView(ctx, tenant, act)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("mgmtapi: encode action: %w", err)
	}
	return b, nil
}

func (a *API) actionView(ctx context.Context, tenant string, act model.Action) (actionView, error) {
	v := actionView{
		ID: act.ID, Name: act.Name, SupportedTriggers: act.SupportedTriggers, Code: act.Code,
		Dependencies: act.Dependencies, Runtime: act.Runtime, Secrets: secretViews(act.Secrets),
		ModuleSize: len(act.Module), ModuleSHA256: moduleSum(act.Module),
		CreatedAt: act.CreatedAt, UpdatedAt: act.UpdatedAt,
	}
	if act.DeployedVersionID == "" {
		// The draft passed the Runner's check when it was saved.
		v.Status = model.ActionStatusBuilt
		if a.cfg.Runner == nil {
			v.Status = model.ActionStatusPending
		}
		return v, nil
	}
	ver, err := a.cfg.Repo.GetActionVersion(ctx, tenant, act.ID, act.DeployedVersionID)
	if err != nil {
		return v, fmt.Errorf("mgmtapi: deployed version of action %q: %w", act.ID, err)
	}
	vv, err := a.versionView(ctx, tenant, act, ver)
	if err != nil {
		return v, err
	}
	v.DeployedVersion = &vv
	v.Status, v.BuiltAt = vv.Status, vv.BuiltAt
	v.AllChangesDeployed = sameContent(act, ver)
	return v, nil
}

// sameContent reports whether the draft is what the version runs.
func sameContent(act model.Action, ver model.ActionVersion) bool {
	if act.Runtime != ver.Runtime || act.Code != ver.Code || !bytes.Equal(act.Module, ver.Module) ||
		!slices.Equal(act.SupportedTriggers, ver.SupportedTriggers) || len(act.Secrets) != len(ver.Secrets) {
		return false
	}
	for i, s := range act.Secrets {
		o := ver.Secrets[i]
		if s.Name != o.Name || !s.UpdatedAt.Equal(o.UpdatedAt.Time) {
			return false
		}
	}
	return true
}

// ---- input ----

// secretInput is one member of a body's secrets.
type secretInput struct {
	name     string
	value    string
	hasValue bool
}

// actionInput is a parsed action body (JSON or a raw module).
type actionInput struct {
	present  map[string]bool
	name     string
	triggers []model.ActionTrigger
	runtime  string
	code     string
	module   []byte
	secrets  []secretInput
}

// readActionInput reads a POST or PATCH action body: JSON, or a raw
// module (Content-Type application/wasm) with name and
// supported_triggers in the query. currentID is the id being updated
// ("" on create).
func (a *API) readActionInput(c *call, currentID string) (*actionInput, error) {
	mt, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if mt == mediaWasm {
		return a.readWasmUpload(c)
	}
	max := int64(base64.StdEncoding.EncodedLen(a.cfg.MaxModuleBytes)) + actionJSONSlack
	o, err := rest.ReadObject(c.r, max)
	if err != nil {
		return nil, err
	}
	return a.parseActionJSON(o, currentID)
}

func (a *API) moduleTooLarge() error {
	return apierror.New(http.StatusRequestEntityTooLarge, apierror.CodeBodyTooLarge,
		fmt.Sprintf("The WebAssembly module is larger than %d bytes.", a.cfg.MaxModuleBytes))
}

func (a *API) readWasmUpload(c *call) (*actionInput, error) {
	data, err := io.ReadAll(io.LimitReader(c.r.Body, int64(a.cfg.MaxModuleBytes)+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || len(data) > a.cfg.MaxModuleBytes {
		return nil, a.moduleTooLarge()
	}
	if err != nil {
		return nil, rest.BadRequest(rest.CodeInvalidBody, "Could not read the request body.")
	}
	if len(data) == 0 {
		return nil, rest.BadRequest(rest.CodeInvalidBody, "The request body is empty; send the WebAssembly module.")
	}
	in := &actionInput{present: map[string]bool{"module": true, "runtime": true}, module: data, runtime: action.RuntimeWasm}
	q := c.r.URL.Query()
	if v, ok := rest.Single(q, "name"); ok {
		if _, reason := checkActionName(v); reason != "" {
			return nil, rest.BadRequest(rest.CodeInvalidQuery, "Invalid value %s for query parameter name (%s).", strconv.Quote(v), reason)
		}
		in.name, in.present["name"] = v, true
	}
	if vals, ok := q["supported_triggers"]; ok {
		var ids []string
		for _, v := range vals {
			for id := range strings.SplitSeq(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					ids = append(ids, id)
				}
			}
		}
		ts, reason := parseTriggerIDs(ids)
		if reason != "" {
			return nil, rest.BadRequest(rest.CodeInvalidQuery, "Invalid value for query parameter supported_triggers (%s).", reason)
		}
		in.triggers, in.present["supported_triggers"] = ts, true
	}
	return in, nil
}

func checkActionName(s string) (string, string) {
	if s == "" || len([]rune(s)) > maxActionNameLen || strings.ContainsFunc(s, isControl) {
		return "", fmt.Sprintf("1 to %d characters, without control characters", maxActionNameLen)
	}
	return s, ""
}

// parseTriggerIDs canonicalises trigger ids (m2m → credentials-exchange);
// reason is set for an unknown or repeated one.
func parseTriggerIDs(ids []string) ([]model.ActionTrigger, string) {
	if len(ids) == 0 {
		return nil, "at least one trigger"
	}
	out := make([]model.ActionTrigger, 0, len(ids))
	for _, id := range ids {
		t, ok := findTrigger(id)
		if !ok {
			return nil, fmt.Sprintf("unknown trigger %q (known: %s)", id, strings.Join(triggerIDs(), ", "))
		}
		if slices.ContainsFunc(out, func(x model.ActionTrigger) bool { return x.ID == t.id }) {
			return nil, fmt.Sprintf("trigger %q given twice", t.id)
		}
		out = append(out, model.ActionTrigger{ID: t.id, Version: t.version})
	}
	return out, ""
}

func (a *API) parseActionJSON(o *rest.Object, currentID string) (*actionInput, error) {
	in := &actionInput{present: map[string]bool{}}
	o.ReadOnlyEqual("id", currentID)
	o.IgnoreReadOnly("string", "created_at", "updated_at", "built_at", "status", "module_sha256", "installed_integration_id")
	o.IgnoreReadOnly("object", "deployed_version", "integration")
	o.IgnoreReadOnly("boolean", "all_changes_deployed")
	o.IgnoreReadOnly("number", "module_size")
	if o.StringChecked("name", &in.name, checkActionName) {
		in.present["name"] = true
	}
	if o.Enum("runtime", &in.runtime, actionRuntimes...) {
		in.present["runtime"] = true
	}
	if raw, ok := o.Take("code"); ok {
		var s string
		if o.StringValue("code", raw, &s) {
			if len(s) > maxActionCodeBytes {
				o.Errs().Add("Invalid value for field code (at most %d bytes)", maxActionCodeBytes)
			} else {
				in.code, in.present["code"] = s, true
			}
		}
	}
	if raw, ok := o.Take("module"); ok {
		var s string
		if rest.JSONKind(raw) != "string" || json.Unmarshal(raw, &s) != nil {
			o.Errs().Add("Invalid value for field module (expected the WebAssembly module in base64)")
		} else if base64.StdEncoding.DecodedLen(len(s)) > a.cfg.MaxModuleBytes+2 {
			return nil, a.moduleTooLarge()
		} else if m, err := decodeBase64(s); err != nil {
			o.Errs().Add("Invalid value for field module (not base64: %v)", err)
		} else if len(m) > a.cfg.MaxModuleBytes {
			return nil, a.moduleTooLarge()
		} else {
			in.module, in.present["module"] = m, true
		}
	}
	if deps, ok := o.Objects("dependencies"); ok {
		for _, d := range deps {
			d.IgnoreAll()
		}
		if len(deps) > 0 {
			o.Errs().Add("Invalid value for field dependencies (npm dependencies are not supported yet; bundle what the action needs into its code)")
		}
	}
	if list, ok := o.Take("supported_triggers"); ok {
		if ts, ok := parseSupportedTriggers(o, list); ok {
			in.triggers, in.present["supported_triggers"] = ts, true
		}
	}
	if secrets, ok := o.Objects("secrets"); ok {
		in.secrets, in.present["secrets"] = parseSecrets(o, secrets), true
	}
	o.Finish()
	return in, o.Errs().Err()
}

// decodeBase64 accepts standard base64 with or without padding.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	return base64.RawStdEncoding.DecodeString(s)
}

// parseSupportedTriggers reads [{id, version?, status?}] or, the backend
// form, ["credentials-exchange", ...].
func parseSupportedTriggers(o *rest.Object, raw json.RawMessage) ([]model.ActionTrigger, bool) {
	var elems []json.RawMessage
	if rest.JSONKind(raw) != "array" || json.Unmarshal(raw, &elems) != nil {
		o.Fail("supported_triggers", raw, "expected array of triggers")
		return nil, false
	}
	var ids, versions []string
	ok := true
	for i, e := range elems {
		name := fmt.Sprintf("supported_triggers[%d]", i)
		switch rest.JSONKind(e) {
		case "string":
			var s string
			_ = json.Unmarshal(e, &s)
			ids, versions = append(ids, s), append(versions, "")
		case "object":
			child, _, _ := o.ObjectValue(name, e)
			var id, version, status string
			if !child.StringChecked("id", &id, rest.CheckToken(64)) && !child.Has("id") {
				child.Missing("id")
			}
			child.StringChecked("version", &version, func(s string) (string, string) {
				if len(s) > maxTriggerVersion || rest.HasSpaceOrControl(s) {
					return "", fmt.Sprintf("at most %d characters without spaces", maxTriggerVersion)
				}
				return s, ""
			})
			child.StringChecked("status", &status, nil) // read-only
			child.Finish()
			ids, versions = append(ids, id), append(versions, version)
		default:
			o.Fail(name, e, "expected a trigger id or {id, version}")
			ok = false
		}
	}
	if !ok || !o.Errs().Empty() {
		return nil, false
	}
	ts, reason := parseTriggerIDs(ids)
	if reason != "" {
		o.Errs().Add("Invalid value for field supported_triggers (%s)", reason)
		return nil, false
	}
	for i := range ts {
		if versions[i] != "" {
			ts[i].Version = versions[i]
		}
	}
	return ts, true
}

// parseSecrets reads [{name, value?, updated_at?}]. A value is never put
// in a message.
func parseSecrets(o *rest.Object, list []*rest.Object) []secretInput {
	if len(list) > maxActionSecrets {
		o.Errs().Add("Invalid value for field secrets (at most %d secrets)", maxActionSecrets)
	}
	out := make([]secretInput, 0, len(list))
	seen := map[string]bool{}
	for _, so := range list {
		var s secretInput
		if so.StringChecked("name", &s.name, rest.CheckToken(maxSecretNameLen)) {
			if seen[s.name] {
				so.Errs().Add("Invalid value %s for field %s (duplicate secret)", strconv.Quote(s.name), so.Field("name"))
			}
			seen[s.name] = true
		} else if !so.Has("name") {
			so.Missing("name")
		}
		if raw, ok := so.Take("value"); ok {
			var v string
			switch {
			case rest.JSONKind(raw) != "string" || json.Unmarshal(raw, &v) != nil:
				so.Errs().Add("Invalid value for field %s (expected string)", so.Field("value"))
			case len(v) > maxSecretValueBytes:
				so.Errs().Add("Invalid value for field %s (at most %d bytes)", so.Field("value"), maxSecretValueBytes)
			default:
				s.value, s.hasValue = v, true
			}
		}
		so.IgnoreReadOnly("string", "updated_at")
		so.Finish()
		out = append(out, s)
	}
	return out
}

// applyAction applies in to old (the zero Action on create) and returns
// the draft to store. Secrets given without a value keep their stored
// one; secrets left out are removed; a new value stamps updated_at.
func applyAction(old model.Action, in *actionInput, now model.Time) (model.Action, error) {
	nv := old
	if in.present["name"] {
		nv.Name = in.name
	}
	if in.present["supported_triggers"] {
		nv.SupportedTriggers = in.triggers
	}
	switch {
	case in.present["runtime"]:
		nv.Runtime = in.runtime
	case in.present["module"]:
		nv.Runtime = action.RuntimeWasm
	case nv.Runtime == "":
		nv.Runtime = action.DefaultRuntime
	}
	if in.present["code"] {
		nv.Code = in.code
	}
	if in.present["module"] {
		nv.Module = in.module
	}
	kind, _ := action.ParseRuntime(nv.Runtime) // an enum of the body
	v := &rest.Problems{}
	switch kind {
	case action.KindWasm:
		if in.present["code"] && in.code != "" {
			v.Add("Invalid value for field code (a wasm action has no code; send its module)")
		}
		nv.Code = ""
		if len(nv.Module) == 0 {
			v.Add("Missing required property: module (runtime wasm needs the WebAssembly module, in base64, or a Content-Type: application/wasm body)")
		}
	default:
		if in.present["module"] {
			v.Add("Invalid value for field module (a module needs runtime wasm)")
		}
		nv.Module = nil
	}
	if in.present["secrets"] {
		secrets := make([]model.ActionSecret, 0, len(in.secrets))
		for _, s := range in.secrets {
			i := slices.IndexFunc(old.Secrets, func(x model.ActionSecret) bool { return x.Name == s.name })
			switch {
			case s.hasValue && i >= 0 && old.Secrets[i].Value.Reveal() == s.value:
				secrets = append(secrets, old.Secrets[i])
			case s.hasValue:
				secrets = append(secrets, model.ActionSecret{Name: s.name, Value: model.Secret(s.value), UpdatedAt: now})
			case i >= 0:
				secrets = append(secrets, old.Secrets[i])
			default:
				v.Add("Missing required property: value of secret %s (a new secret needs a value)", strconv.Quote(s.name))
			}
		}
		nv.Secrets = secrets
	}
	if nv.Name == "" {
		v.Add("Missing required property: name")
	}
	if len(nv.SupportedTriggers) == 0 {
		v.Add("Missing required property: supported_triggers")
	}
	return nv, v.Err()
}

// codeOf is what the Runner checks and runs for an action's draft.
func codeOf(act model.Action) action.Code {
	return action.Code{Runtime: act.Runtime, Source: act.Code, Module: act.Module, Secrets: model.SecretMap(act.Secrets)}
}

func abiTriggers(ts []model.ActionTrigger) []abi.Trigger {
	out := make([]abi.Trigger, 0, len(ts))
	for _, t := range ts {
		if tr, ok := findTrigger(t.ID); ok {
			out = append(out, tr.abi)
		}
	}
	return out
}

// contentKey identifies what Check validated: runtime, code, module and
// triggers.
func contentKey(act model.Action) [32]byte {
	h := sha256.New()
	for _, s := range []string{act.Runtime, act.Code} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	fmt.Fprintf(h, "%d:", len(act.Module))
	h.Write(act.Module)
	for _, t := range act.SupportedTriggers {
		fmt.Fprintf(h, "%d:%s", len(t.ID), t.ID)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// checker runs the Runner's Check once per distinct content, so an
// update closure that runs again re-checks only a draft that changed.
type checker struct {
	a    *API
	ctx  context.Context
	done map[[32]byte]error
}

func (a *API) newChecker(ctx context.Context) *checker {
	return &checker{a: a, ctx: ctx, done: map[[32]byte]error{}}
}

// check validates the draft's code: 400 invalid_action_code with the
// Runner's reason, or nil. Without a Runner nothing is checked (deploy
// and test refuse to run then).
func (k *checker) check(act model.Action) error {
	if k.a.cfg.Runner == nil {
		return nil
	}
	key := contentKey(act)
	if err, ok := k.done[key]; ok {
		return err
	}
	err := k.a.cfg.Runner.Check(k.ctx, codeOf(act), abiTriggers(act.SupportedTriggers))
	switch {
	case err == nil:
	case errors.Is(err, action.ErrInvalidCode), errors.Is(err, sandbox.ErrInvalidModule):
		err = apierror.New(http.StatusBadRequest, codeInvalidActionCode, "Invalid action code: "+err.Error())
	default:
		return fmt.Errorf("mgmtapi: check action code: %w", err)
	}
	k.done[key] = err
	return err
}

// runner returns the Runner, or the 501 for a control plane without one.
func (a *API) runner(what string) (action.Runner, error) {
	if a.cfg.Runner == nil {
		return nil, apierror.New(http.StatusNotImplemented, codeNotImplemented,
			"Actions cannot be "+what+" on this server: it runs no action runtime.")
	}
	return a.cfg.Runner, nil
}

// actionRepoError maps repository errors of action writes.
func actionRepoError(err error, id, name string) error {
	switch {
	case errors.Is(err, repo.ErrDuplicate):
		return apierror.New(http.StatusConflict, rest.CodeConflict, fmt.Sprintf("An action named %q already exists.", name))
	case errors.Is(err, repo.ErrInUse):
		msg := err.Error()
		if i := strings.Index(msg, repo.ErrInUse.Error()+": "); i >= 0 {
			msg = msg[i+len(repo.ErrInUse.Error()+": "):]
		}
		return apierror.New(http.StatusConflict, rest.CodeConflict,
			fmt.Sprintf("The action cannot be deleted: %s. Remove its bindings, or delete with force=true to remove them too.", msg))
	}
	return repoError(err, whatAction, id)
}

// ---- handlers ----

func (a *API) listActions(c *call) error {
	q, err := rest.ParseListQuery(c.r.URL.Query(), actionListSpec)
	if err != nil {
		return err
	}
	// These filters look into arrays and relations: applied here, not by
	// paginate's equality on rendered members.
	f := q.Filters
	q.Filters = nil
	var triggers []string
	for _, id := range append(f["trigger_id"], f["trigger"]...) {
		t, ok := findTrigger(id)
		if !ok {
			return rest.BadRequest(rest.CodeInvalidQuery, "Invalid value %s for query parameter trigger_id (unknown trigger).", strconv.Quote(id))
		}
		triggers = append(triggers, t.id)
	}
	all, err := rest.Collect(func(after string) ([]model.Action, string, error) {
		return a.cfg.Repo.ListActions(c.ctx(), c.tenant.Name, after, 0)
	})
	if err != nil {
		return err
	}
	kept := all[:0]
	for _, act := range all {
		if len(triggers) > 0 && !slices.ContainsFunc(act.SupportedTriggers, func(t model.ActionTrigger) bool { return slices.Contains(triggers, t.ID) }) {
			continue
		}
		if names := f["action_name"]; len(names) > 0 && !slices.Contains(names, act.Name) {
			continue
		}
		if d := f["deployed"]; len(d) > 0 && !slices.Contains(d, strconv.FormatBool(act.DeployedVersionID != "")) {
			continue
		}
		// No action here comes from a marketplace integration.
		if in := f["installed"]; len(in) > 0 && !slices.Contains(in, "false") {
			continue
		}
		kept = append(kept, act)
	}
	items, err := rest.RenderAll(kept, a.actions(c).Render)
	if err != nil {
		return err
	}
	return writeNamedPage(c.w, rest.Paginate(items, q), "actions")
}

// writeNamedPage writes the list envelope with the page's items also
// under name (actions, versions, bindings, triggers): the key the Go
// SDKs' Actions list types read.
func writeNamedPage(w http.ResponseWriter, p rest.Page, name string) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("mgmtapi: encode list: %w", err)
	}
	items, err := json.Marshal(p.Items)
	if err != nil {
		return fmt.Errorf("mgmtapi: encode list: %w", err)
	}
	return rest.WriteJSON(w, http.StatusOK, rest.SpliceMembers(b, [2]string{name, string(items)}), 0)
}

// findAction reads the path's action.
func (a *API) findAction(c *call) (model.Action, error) {
	id := c.r.PathValue("id")
	act, err := a.cfg.Repo.GetAction(c.ctx(), c.tenant.Name, id)
	if err != nil {
		return act, repoError(err, whatAction, id)
	}
	return act, nil
}

// actions is the action resource of c's tenant (rendering reads the
// action's deployed version and build status).
func (a *API) actions(c *call) rest.Resource[model.Action] {
	return rest.Resource[model.Action]{
		Spec:    actionListSpec,
		Render:  func(x model.Action) ([]byte, error) { return a.renderAction(c.ctx(), c.tenant.Name, x) },
		Version: func(x model.Action) uint64 { return x.Version },
	}
}

func (a *API) getAction(c *call) error {
	return a.actions(c).Get(c.w, c.r, func() (model.Action, error) { return a.findAction(c) })
}

func (a *API) createAction(c *call) error {
	in, err := a.readActionInput(c, "")
	if err != nil {
		return err
	}
	now := a.now()
	act, err := applyAction(model.Action{}, in, now)
	if err != nil {
		return err
	}
	if err := a.newChecker(c.ctx()).check(act); err != nil {
		return err
	}
	if act.ID, err = model.NewUUID(a.cfg.Rand); err != nil {
		return err
	}
	act.CreatedAt, act.UpdatedAt = now, now
	created, err := a.cfg.Repo.CreateAction(c.ctx(), c.tenant.Name, act)
	if err != nil {
		return actionRepoError(err, act.ID, act.Name)
	}
	return a.actions(c).Created(c.w, created)
}

func (a *API) updateAction(c *call) error {
	cur, err := a.findAction(c)
	if err != nil {
		return err
	}
	in, err := a.readActionInput(c, cur.ID)
	if err != nil {
		return err
	}
	now := a.now()
	k := a.newChecker(c.ctx())
	res := a.actions(c)
	cas := func(fn func(model.Action) (model.Action, error)) (model.Action, error) {
		return a.cfg.Repo.UpdateAction(c.ctx(), c.tenant.Name, cur.ID, fn)
	}
	updated, err := res.Update(c.r, cas, func(old model.Action) (model.Action, error) {
		nv, err := applyAction(old, in, now)
		if err != nil {
			return old, err
		}
		if contentKey(nv) != contentKey(old) {
			if err := k.check(nv); err != nil {
				return old, err
			}
		}
		nv.UpdatedAt = now
		return nv, nil
	})
	if err != nil {
		return actionRepoError(err, cur.ID, in.name)
	}
	return res.OK(c.w, updated)
}

func (a *API) deleteAction(c *call) error {
	force := false
	if v, ok := rest.Single(c.r.URL.Query(), "force"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return rest.BadRequest(rest.CodeInvalidQuery, "Invalid value %s for query parameter force (expected true or false).", strconv.Quote(v))
		}
		force = b
	}
	id := c.r.PathValue("id")
	return rest.Delete(c.w, func() error {
		if err := a.cfg.Repo.DeleteAction(c.ctx(), c.tenant.Name, id, force); err != nil {
			return actionRepoError(err, id, "")
		}
		return nil
	})
}

// ---- test ----

// testView is a test run's TriggerResult: commands, logs ([stream,
// text] pairs) and errors; payload carries the same object for clients
// that read Auth0's {"payload": ...}.
type testView struct {
	Commands      []commandView     `json:"commands"`
	Logs          [][2]string       `json:"logs"`
	Errors        []abi.ModuleError `json:"errors"`
	LogsTruncated bool              `json:"logs_truncated,omitempty"`
}

type commandView struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// commandJSON renders a decoded command in its wire form (D.3).
func commandJSON(cmd abi.Command) commandView {
	switch x := cmd.(type) {
	case abi.SetCustomClaim:
		return commandView{x.Type(), map[string]any{"target": x.Target, "name": x.Name, "value": x.Value}}
	case abi.SetMetadata:
		return commandView{x.Type(), map[string]any{"target": x.Target, "key": x.Key, "value": x.Value}}
	case abi.AccessDenied:
		return commandView{x.Type(), x.Reason}
	case abi.AddScope:
		return commandView{x.Type(), map[string]any{"target": abi.AccessToken, "scope": x.Scope}}
	case abi.RemoveScope:
		return commandView{x.Type(), map[string]any{"target": abi.AccessToken, "scope": x.Scope}}
	case abi.RequireMultifactor:
		d := map[string]any{"provider": x.Provider}
		if len(x.Options) > 0 {
			d["options"] = x.Options
		}
		return commandView{x.Type(), d}
	}
	return commandView{Type: cmd.Type()}
}

// failureNames name the sandbox's typed failures in a test's errors.
var failureNames = []struct {
	err  error
	name string
}{
	{sandbox.ErrTimeout, "ActionTimeout"},
	{sandbox.ErrTrap, "ActionCrashed"},
	{sandbox.ErrOutOfMemory, "ActionOutOfMemory"},
	{sandbox.ErrInvalidOutput, "ActionInvalidResult"},
	{sandbox.ErrDenied, "ActionABIViolation"},
	{sandbox.ErrInvalidModule, "ActionInvalidModule"},
}

func (a *API) testAction(c *call) error {
	runner, err := a.runner("tested")
	if err != nil {
		return err
	}
	o, err := rest.ReadObject(c.r, a.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	var event json.RawMessage
	for _, name := range []string{"payload", "event"} {
		if raw, ok := o.Take(name); ok {
			if rest.JSONKind(raw) != "object" {
				o.Fail(name, raw, "expected the trigger's event object")
				continue
			}
			if event != nil {
				o.Errs().Add("Fields payload and event are the same (send one)")
			}
			event = raw
		}
	}
	var triggerID string
	o.StringChecked("trigger_id", &triggerID, rest.CheckToken(64))
	o.Finish()
	if err := o.Errs().Err(); err != nil {
		return err
	}
	if event == nil {
		event = json.RawMessage(`{}`)
	}
	act, err := a.findAction(c)
	if err != nil {
		return err
	}
	trig, ok := findTrigger(act.SupportedTriggers[0].ID)
	if triggerID != "" {
		t, found := findTrigger(triggerID)
		if !found || !slices.ContainsFunc(act.SupportedTriggers, func(x model.ActionTrigger) bool { return x.ID == t.id }) {
			return rest.InvalidField("Invalid value %s (string) for field trigger_id (the action supports %s)", strconv.Quote(triggerID), triggerList(act.SupportedTriggers))
		}
		trig, ok = t, true
	}
	if !ok {
		return fmt.Errorf("mgmtapi: action %q has an unknown trigger %q", act.ID, act.SupportedTriggers[0].ID)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, event); err != nil {
		return rest.BadRequest(rest.CodeInvalidBody, "The event is not valid JSON.")
	}
	res, err := runner.Test(c.ctx(), codeOf(act), trig.abi, compact.Bytes())
	view := testView{Commands: []commandView{}, Logs: [][2]string{}, Errors: []abi.ModuleError{}}
	switch {
	case err == nil:
		for _, cmd := range res.Result.Commands {
			view.Commands = append(view.Commands, commandJSON(cmd))
		}
		view.Errors = append(view.Errors, res.Result.Errors...)
	case errors.Is(err, action.ErrInvalidCode):
		return apierror.New(http.StatusBadRequest, codeInvalidActionCode, "Invalid action code: "+err.Error())
	default:
		i := slices.IndexFunc(failureNames, func(f struct {
			err  error
			name string
		}) bool {
			return errors.Is(err, f.err)
		})
		if i < 0 {
			return fmt.Errorf("mgmtapi: test action %q: %w", act.ID, err)
		}
		view.Errors = append(view.Errors, abi.ModuleError{Name: failureNames[i].name, Message: err.Error()})
	}
	for _, l := range res.Logs {
		view.Logs = append(view.Logs, [2]string{l.Stream, l.Text})
	}
	view.LogsTruncated = res.LogsTruncated
	b, err := json.Marshal(view)
	if err != nil {
		return fmt.Errorf("mgmtapi: encode test result: %w", err)
	}
	return rest.WriteJSON(c.w, http.StatusOK, rest.SpliceMembers(b, [2]string{"payload", string(b)}), 0)
}

func triggerList(ts []model.ActionTrigger) string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return strings.Join(ids, ", ")
}
