package mgmtapi

import (
	"encoding/json"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"net/http"
	"strings"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/action"
)

// triggerInfo is one trigger of the catalogue (API.md D.1).
type triggerInfo struct {
	id      string // canonical id
	abi     abi.Trigger
	version string
	display string
}

// triggerCatalogue lists every trigger in the order GET /actions/triggers
// returns them. Authok's ids m2m and post-register are aliases of
// credentials-exchange and post-user-registration (abi.ParseTrigger).
var triggerCatalogue = []triggerInfo{
	{"post-login", abi.PostLogin, "v3", "登录后"},
	{"credentials-exchange", abi.CredentialsExchange, "v2", "M2M 凭证交换"},
	{"pre-user-registration", abi.PreUserRegistration, "v2", "注册前"},
	{"post-user-registration", abi.PostUserRegistration, "v2", "注册后"},
	{"post-change-password", abi.PostChangePassword, "v2", "修改密码后"},
	{"send-phone-message", abi.SendPhoneMessage, "v2", "发送短信"},
}

// findTrigger returns the trigger a canonical id or an alias names.
func findTrigger(id string) (triggerInfo, bool) {
	t, err := abi.ParseTrigger(id)
	if err != nil {
		return triggerInfo{}, false
	}
	for _, ti := range triggerCatalogue {
		if ti.abi == t {
			return ti, true
		}
	}
	return triggerInfo{}, false
}

func triggerIDs() []string {
	out := make([]string, len(triggerCatalogue))
	for i, t := range triggerCatalogue {
		out[i] = t.id
	}
	return out
}

// triggerView is a trigger as the API renders it: Auth0's id, version,
// status, runtimes and default_runtime, and Authok's display_name.
type triggerView struct {
	ID             string   `json:"id"`
	Version        string   `json:"version"`
	Status         string   `json:"status"`
	DisplayName    string   `json:"display_name"`
	Runtimes       []string `json:"runtimes"`
	DefaultRuntime string   `json:"default_runtime"`
}

func renderTrigger(t triggerInfo) ([]byte, error) {
	b, err := json.Marshal(triggerView{
		ID: t.id, Version: t.version, Status: "current", DisplayName: t.display,
		Runtimes: actionRuntimes, DefaultRuntime: action.DefaultRuntime,
	})
	if err != nil {
		return nil, fmt.Errorf("mgmtapi: encode trigger: %w", err)
	}
	return b, nil
}

var triggerListSpec = &rest.ListSpec{
	Fields:   []string{"id", "version", "status", "display_name", "runtimes", "default_runtime"},
	Sortable: []string{"id", "display_name"},
}

func (a *API) listTriggers(c *call) error {
	q, err := rest.ParseListQuery(c.r.URL.Query(), triggerListSpec)
	if err != nil {
		return err
	}
	items, err := rest.RenderAll(triggerCatalogue, triggers.Render)
	if err != nil {
		return err
	}
	return writeNamedPage(c.w, rest.Paginate(items, q), "triggers")
}

// triggers is the trigger catalogue as a resource (no versions: the
// catalogue is the server's).
var triggers = rest.Resource[triggerInfo]{Spec: triggerListSpec, Render: renderTrigger}

func (a *API) getTrigger(c *call) error {
	return triggers.Get(c.w, c.r, func() (triggerInfo, error) { return pathTrigger(c) })
}

// pathTrigger reads the path's trigger id (canonical or alias).
func pathTrigger(c *call) (triggerInfo, error) {
	id := c.r.PathValue("trigger_id")
	t, ok := findTrigger(id)
	if !ok {
		return t, rest.NotFound(codeInexistentTrigger, "The trigger %q does not exist (known: %s).", id, strings.Join(triggerIDs(), ", "))
	}
	return t, nil
}

// actionsStatus answers GET /actions/status: the Actions service is up.
func (a *API) actionsStatus(c *call) error {
	return rest.WriteJSON(c.w, http.StatusOK, map[string]string{"status": "ok"}, 0)
}
