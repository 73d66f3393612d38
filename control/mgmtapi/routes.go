package mgmtapi

import "net/http"

// table lists every operation: method, path under the prefix, the scopes
// a token must hold (all of them; API.md A.2, C.*) and the handler. The
// OpenAPI document (openapi.json) describes the same set; a test keeps
// them equal.
func (a *API) table() []route {
	s := func(scopes ...string) []string { return scopes }
	return []route{
		{http.MethodGet, "/openapi.json", nil, a.serveOpenAPI},

		{http.MethodGet, "/clients", s("read:clients"), a.listClients},
		{http.MethodPost, "/clients", s("create:clients"), a.createClient},
		{http.MethodGet, "/clients/{id}", s("read:clients"), a.getClient},
		{http.MethodPatch, "/clients/{id}", s("update:clients"), a.updateClient},
		{http.MethodDelete, "/clients/{id}", s("delete:clients"), a.deleteClient},
		{http.MethodPost, "/clients/{id}/rotate-secret", s(scopeUpdateClientKeys), a.rotateClientSecret},

		{http.MethodGet, "/resource-servers", s("read:resource_servers"), a.listRS},
		{http.MethodPost, "/resource-servers", s("create:resource_servers"), a.createRS},
		{http.MethodGet, "/resource-servers/{id}", s("read:resource_servers"), a.getRS},
		{http.MethodPatch, "/resource-servers/{id}", s("update:resource_servers"), a.updateRS},
		{http.MethodDelete, "/resource-servers/{id}", s("delete:resource_servers"), a.deleteRS},

		{http.MethodGet, "/client-grants", s("read:client_grants"), a.listGrants},
		{http.MethodPost, "/client-grants", s("create:client_grants"), a.createGrant},
		{http.MethodGet, "/client-grants/{id}", s("read:client_grants"), a.getGrant},
		{http.MethodPatch, "/client-grants/{id}", s("update:client_grants"), a.updateGrant},
		{http.MethodDelete, "/client-grants/{id}", s("delete:client_grants"), a.deleteGrant},

		{http.MethodGet, "/keys/signing", s("read:signing_keys"), a.listKeys},
		{http.MethodGet, "/keys/signing/{kid}", s("read:signing_keys"), a.getKey},
		{http.MethodPost, "/keys/signing/rotate", s("create:signing_keys", "update:signing_keys"), a.rotateKeys},
		{http.MethodPost, "/keys/rotate", s("create:signing_keys", "update:signing_keys"), a.rotateKeys},
		{http.MethodPut, "/keys/signing/{kid}/revoke", s("update:signing_keys"), a.revokeKey},

		{http.MethodGet, "/tenants/settings", s("read:tenant_settings"), a.getTenantSettings},
		{http.MethodPatch, "/tenants/settings", s("update:tenant_settings"), a.updateTenantSettings},

		// Actions: the SDK's paths, and in the same table the Authok
		// backend's aliases (/triggers, /actions/{id}, /actions/{id}/test).
		// "a|b" lets either scope do.
		{http.MethodGet, "/actions/triggers", s(scopeReadTriggers), a.listTriggers},
		{http.MethodGet, "/triggers", s(scopeReadTriggers), a.listTriggers},
		{http.MethodGet, "/actions/triggers/{trigger_id}", s(scopeReadTriggers), a.getTrigger},
		{http.MethodGet, "/triggers/{trigger_id}", s(scopeReadTriggers), a.getTrigger},
		{http.MethodGet, "/actions/triggers/{trigger_id}/bindings", s("read:actions"), a.getBindings},
		{http.MethodPatch, "/actions/triggers/{trigger_id}/bindings", s("update:actions"), a.updateBindings},
		{http.MethodGet, "/actions/status", []string{}, a.actionsStatus}, // a valid token, no scope
		{http.MethodGet, "/actions/executions/{id}", s("read:actions"), a.getExecution},
		{http.MethodGet, "/actions/actions", s("read:actions"), a.listActions},
		{http.MethodGet, "/actions", s("read:actions"), a.listActions},
		{http.MethodPost, "/actions/actions", s("create:actions"), a.createAction},
		{http.MethodPost, "/actions", s("create:actions"), a.createAction},
		{http.MethodGet, "/actions/actions/{id}", s("read:actions"), a.getAction},
		{http.MethodGet, "/actions/{id}", s("read:actions"), a.getAction},
		{http.MethodPatch, "/actions/actions/{id}", s("update:actions"), a.updateAction},
		{http.MethodPatch, "/actions/{id}", s("update:actions"), a.updateAction},
		{http.MethodDelete, "/actions/actions/{id}", s("delete:actions"), a.deleteAction},
		{http.MethodDelete, "/actions/{id}", s("delete:actions"), a.deleteAction},
		{http.MethodGet, "/actions/actions/{id}/versions", s("read:actions"), a.listActionVersions},
		{http.MethodGet, "/actions/actions/{id}/versions/{version_id}", s("read:actions"), a.getActionVersion},
		{http.MethodPost, "/actions/actions/{id}/deploy", s("create:actions"), a.deployAction},
		{http.MethodPost, "/actions/actions/{id}/versions/{version_id}/deploy", s("create:actions"), a.deployActionVersion},
		{http.MethodPost, "/actions/actions/{id}/test", s("create:actions"), a.testAction},
		{http.MethodPost, "/actions/{id}/test", s("create:actions"), a.testAction},
	}
}

// scopeReadTriggers: the triggers are read with read:actions, or the
// Authok backend's read:triggers.
const scopeReadTriggers = "read:actions|read:triggers"
