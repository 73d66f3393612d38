package model

import "strings"

// ManagementAPIName is the name of every tenant's system resource server.
const ManagementAPIName = "Authok Management API"

// ScopeUpdateCurrentUserIdentities is checked by identity linking
// (`link_with`) but is deliberately not part of the catalogue (API.md A.2).
const ScopeUpdateCurrentUserIdentities = "update:current_user_identities"

// scopeGroup is one row of the A.2 table: verbs applied to resources, in
// the table's order.
type scopeGroup struct {
	verbs     []string
	resources []string
}

var (
	crud = []string{"read", "update", "delete", "create"}
	ru   = []string{"read", "update"}
)

// managementScopeTable is API.md A.2, row by row.
var managementScopeTable = []scopeGroup{
	{crud, []string{
		"groups", "client_grants", "users", "clients", "client_keys", "connections",
		"resource_servers", "device_credentials", "rules", "hooks", "actions",
		"email_provider", "custom_domains", "roles", "log_streams", "organizations", "shields",
	}},
	{crud, []string{"users_app_metadata"}},
	{[]string{"read", "create", "delete"}, []string{"user_custom_blocks"}},
	{[]string{"create"}, []string{"user_tickets"}},
	{[]string{"read", "update", "delete"}, []string{"rules_configs"}},
	{[]string{"blacklist"}, []string{"tokens"}},
	{[]string{"read"}, []string{"stats", "insights"}},
	{ru, []string{"tenant_settings"}},
	{[]string{"read"}, []string{"logs", "logs_users"}},
	{[]string{"read", "delete"}, []string{"anomaly_blocks"}},
	{ru, []string{"triggers"}},
	{[]string{"read", "delete"}, []string{"grants"}},
	{ru, []string{"guardian_factors"}},
	{[]string{"read", "delete"}, []string{"guardian_enrollments"}},
	{[]string{"create"}, []string{"guardian_enrollment_tickets"}},
	{[]string{"read"}, []string{"user_idp_tokens"}},
	{[]string{"create", "delete"}, []string{"passwords_checking_job"}},
	{[]string{"read", "create", "update"}, []string{"email_templates"}},
	{ru, []string{"mfa_policies", "prompts", "attack_protection", "limits"}},
	{[]string{"read", "update", "delete"}, []string{"branding"}},
	{[]string{"read", "create", "update"}, []string{"signing_keys"}},
	{[]string{"create", "read", "delete"}, []string{"role_members"}},
	{[]string{"read"}, []string{"entitlements"}},
	{[]string{"create", "read", "delete"}, []string{"organization_members", "organization_member_roles", "organization_invitations"}},
	{[]string{"create", "read", "update", "delete"}, []string{"organization_connections"}},
}

// ManagementScopes returns the Management API scope catalogue of API.md
// A.2, every verb for every resource, in the table's order. The caller owns
// the returned slice.
func ManagementScopes() []string {
	var out []string
	for _, g := range managementScopeTable {
		for _, r := range g.resources {
			for _, v := range g.verbs {
				out = append(out, v+":"+r)
			}
		}
	}
	return out
}

// ManagementResourceServerScopes returns the catalogue as resource-server
// scopes with descriptions ("read:client_grants" → "Read Client Grants").
func ManagementResourceServerScopes() []ResourceServerScope {
	scopes := ManagementScopes()
	out := make([]ResourceServerScope, len(scopes))
	for i, s := range scopes {
		out[i] = ResourceServerScope{Value: s, Description: ScopeDescription(s)}
	}
	return out
}

// ScopeDescription turns "verb:some_resource" into "Verb Some Resource".
func ScopeDescription(scope string) string {
	words := strings.FieldsFunc(scope, func(r rune) bool { return r == ':' || r == '_' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}
