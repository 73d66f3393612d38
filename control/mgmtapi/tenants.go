package mgmtapi

import (
	"encoding/json"
	"fmt"
	"github.com/authok-edge/authok/control/internal/rest"
	"regexp"
	"strconv"

	"github.com/authok-edge/authok/shared/model"
)

// Limits of tenant settings (API.md C.7).
const (
	maxSessionHours   = 8760 // one year
	maxSessionMinutes = maxSessionHours * 60
	maxTenantText     = 255
	maxTenantHTML     = 100 << 10
	maxTenantLocales  = 64
	maxTenantFlags    = 100
	// maxActionsTimeoutMS bounds actions_timeout_ms; the executor also
	// caps it by the cluster's maximum.
	maxActionsTimeoutMS = 5000
)

var (
	sessionCookieModes = []string{model.SessionCookiePersistent, model.SessionCookieNonPersistent}
	deviceCharsets     = []string{"base20", "digits"}
	environments       = []string{"development", "staging", "production"}
	localeRE           = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	flagRE             = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)
)

var tenantFields = []string{
	"id", "name", "display_name", "domain", "description", "region", "environment", "picture",
	"support_email", "support_url", "allowed_logout_urls", "session_lifetime", "idle_session_lifetime",
	"session_lifetime_in_minutes", "idle_session_lifetime_in_minutes", "sandbox_version",
	"sandbox_versions_available", "default_redirection_uri", "default_audience", "default_connection",
	"enabled_locales", "session_cookie", "change_password", "guardian_mfa_page", "error_page",
	"device_flow", "universal_login", "jwt_configuration", "config", "flags", "actions_timeout_ms",
	"friendly_name", "picture_url", "default_directory",
}

// renderTenant is the settings JSON plus the SDK spellings of F.3, each
// emitted when its Authok key is.
func renderTenant(t model.Tenant) ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("mgmtapi: encode tenant: %w", err)
	}
	q := func(s string) string {
		v, _ := json.Marshal(s) // a string always encodes
		return string(v)
	}
	extra := [][2]string{{"friendly_name", q(t.DisplayName)}}
	if t.Picture != "" {
		extra = append(extra, [2]string{"picture_url", q(t.Picture)})
	}
	if t.DefaultConnection != "" {
		extra = append(extra, [2]string{"default_directory", q(t.DefaultConnection)})
	}
	return rest.SpliceMembers(b, extra...), nil
}

// tenantAlias reads a string that has an SDK alias (F.3).
func tenantAlias(o *rest.Object, name, alias string, check func(string) (string, string), set func(string)) {
	from, ok := o.Pick(name, alias)
	if !ok {
		return
	}
	var v string
	if o.StringChecked(from, &v, check) {
		set(v)
	}
}

// parseTenantSettings reads a PATCH /tenants/settings body into changes.
func parseTenantSettings(o *rest.Object, t model.Tenant) ([]func(*model.Tenant), error) {
	var sets []func(*model.Tenant)
	add := func(f func(*model.Tenant)) { sets = append(sets, f) }

	o.ReadOnlyEqual("id", t.ID)
	o.ReadOnlyEqual("name", t.Name)
	if t.Domain != "" || o.Has("domain") {
		o.ReadOnlyEqual("domain", t.Domain)
	}
	if raw, ok := o.Take("region"); ok {
		var s string
		if rest.JSONKind(raw) != "string" || json.Unmarshal(raw, &s) != nil || s != t.Region {
			o.Fail("region", raw, "read-only")
		}
	}
	o.IgnoreReadOnly("array", "sandbox_versions_available")
	tenantAlias(o, "display_name", "friendly_name", rest.CheckText(maxTenantText), func(v string) { add(func(t *model.Tenant) { t.DisplayName = v }) })
	tenantAlias(o, "picture", "picture_url", rest.OptionalWebURL(true), func(v string) { add(func(t *model.Tenant) { t.Picture = v }) })
	tenantAlias(o, "default_connection", "default_directory", rest.CheckText(maxTenantText), func(v string) { add(func(t *model.Tenant) { t.DefaultConnection = v }) })

	str := func(name string, check func(string) (string, string), set func(*model.Tenant, string)) {
		var v string
		if o.StringChecked(name, &v, check) {
			add(func(t *model.Tenant) { set(t, v) })
		}
	}
	str("description", rest.CheckText(maxTenantText), func(t *model.Tenant, v string) { t.Description = v })
	str("support_email", rest.CheckEmail, func(t *model.Tenant, v string) { t.SupportEmail = v })
	str("support_url", rest.OptionalWebURL(true), func(t *model.Tenant, v string) { t.SupportURL = v })
	str("sandbox_version", rest.CheckText(32), func(t *model.Tenant, v string) { t.SandboxVersion = v })
	str("default_redirection_uri", rest.OptionalWebURL(true), func(t *model.Tenant, v string) { t.DefaultRedirectionURI = v })
	str("default_audience", rest.CheckText(maxIdentifierLen), func(t *model.Tenant, v string) { t.DefaultAudience = v })
	var env string
	if o.Enum("environment", &env, environments...) {
		add(func(t *model.Tenant) { t.Environment = env })
	}
	var urls []string
	if o.Strings("allowed_logout_urls", &urls, rest.CheckRedirectURL) {
		add(func(t *model.Tenant) { t.AllowedLogoutURLs = urls })
	}
	var locales []string
	if o.Strings("enabled_locales", &locales, func(s string) (string, string) {
		if !localeRE.MatchString(s) {
			return "", "must be a language tag such as en or zh-CN"
		}
		return s, ""
	}) {
		if len(locales) > maxTenantLocales {
			o.Errs().Add("Invalid value for field enabled_locales (at most %d)", maxTenantLocales)
		} else {
			add(func(t *model.Tenant) { t.EnabledLocales = locales })
		}
	}
	var hours float64
	if o.Number("session_lifetime", &hours, 1.0/60, maxSessionHours) {
		h := hours
		add(func(t *model.Tenant) { t.SessionLifetime = h })
	}
	if o.Number("idle_session_lifetime", &hours, 1.0/60, maxSessionHours) {
		h := hours
		add(func(t *model.Tenant) { t.IdleSessionLifetime = h })
	}
	// actions_timeout_ms (an authok-edge extension): one action
	// invocation's deadline; null returns to the cluster's default.
	if raw, ok := o.Peek("actions_timeout_ms"); ok && rest.IsNull(raw) {
		o.Take("actions_timeout_ms")
		add(func(t *model.Tenant) { t.ActionsTimeoutMS = 0 })
	} else {
		var ms int
		if o.Int("actions_timeout_ms", &ms, 1, maxActionsTimeoutMS) {
			add(func(t *model.Tenant) { t.ActionsTimeoutMS = ms })
		}
	}
	var mins int
	if o.Int("session_lifetime_in_minutes", &mins, 1, maxSessionMinutes) {
		m := mins
		add(func(t *model.Tenant) { t.SessionLifetimeInMinutes = m })
	}
	if o.Int("idle_session_lifetime_in_minutes", &mins, 1, maxSessionMinutes) {
		m := mins
		add(func(t *model.Tenant) { t.IdleSessionLifetimeInMinutes = m })
	}

	if so, isNull, ok := o.Object("session_cookie"); ok {
		var sc *model.SessionCookie
		if !isNull {
			sc = &model.SessionCookie{}
			if !so.Enum("mode", &sc.Mode, sessionCookieModes...) && !so.Has("mode") {
				so.Missing("mode")
			}
		}
		so.Finish()
		add(func(t *model.Tenant) { t.SessionCookie = sc })
	}
	for _, name := range []string{"change_password", "guardian_mfa_page"} {
		po, isNull, ok := o.Object(name)
		if !ok {
			continue
		}
		var p *model.CustomPage
		if !isNull {
			p = &model.CustomPage{}
			po.Bool("enabled", &p.Enabled)
			po.StringChecked("html", &p.HTML, rest.CheckText(maxTenantHTML))
		}
		po.Finish()
		if name == "change_password" {
			add(func(t *model.Tenant) { t.ChangePassword = p })
		} else {
			add(func(t *model.Tenant) { t.GuardianMFAPage = p })
		}
	}
	if eo, isNull, ok := o.Object("error_page"); ok {
		var p *model.ErrorPage
		if !isNull {
			p = &model.ErrorPage{}
			eo.StringChecked("html", &p.HTML, rest.CheckText(maxTenantHTML))
			eo.Bool("show_log_link", &p.ShowLogLink)
			eo.StringChecked("url", &p.URL, rest.OptionalWebURL(true))
		}
		eo.Finish()
		add(func(t *model.Tenant) { t.ErrorPage = p })
	}
	if do, isNull, ok := o.Object("device_flow"); ok {
		var d *model.DeviceFlow
		if !isNull {
			d = &model.DeviceFlow{}
			do.Enum("charset", &d.Charset, deviceCharsets...)
			do.StringChecked("mask", &d.Mask, rest.CheckText(20))
		}
		do.Finish()
		add(func(t *model.Tenant) { t.DeviceFlow = d })
	}
	if uo, isNull, ok := o.Object("universal_login"); ok {
		var ul *model.UniversalLogin
		if !isNull {
			ul = &model.UniversalLogin{}
			if co, cNull, ok := uo.Object("colors"); ok {
				if !cNull {
					ul.Colors = &model.UniversalLoginColors{}
					co.StringChecked("primary", &ul.Colors.Primary, rest.CheckText(64))
					if raw, ok := co.Take("page_background"); ok {
						switch rest.JSONKind(raw) {
						case "string", "object", "null":
							ul.Colors.PageBackground = append(json.RawMessage(nil), raw...)
						default:
							co.Fail("page_background", raw, "expected a colour string or a gradient object")
						}
					}
				}
				co.Finish()
			}
		}
		uo.Finish()
		add(func(t *model.Tenant) { t.UniversalLogin = ul })
	}
	if jo, isNull, ok := o.Object("jwt_configuration"); ok {
		var jc *model.TenantJWTConfiguration
		if !isNull {
			jc = &model.TenantJWTConfiguration{}
			if alg, ok := readAlg(jo, "alg"); ok {
				jc.Alg = alg
			}
			jo.Int("lifetime_in_seconds", &jc.LifetimeInSeconds, 1, maxTokenLifetime)
			jo.Bool("secret_encoded", &jc.SecretEncoded)
		}
		jo.Finish()
		add(func(t *model.Tenant) { t.JWTConfiguration = jc })
	}
	if raw, ok := o.Take("config"); ok {
		var m map[string]any
		switch {
		case rest.IsNull(raw):
			add(func(t *model.Tenant) { t.Config = nil })
		case rest.JSONKind(raw) != "object" || json.Unmarshal(raw, &m) != nil:
			o.Fail("config", raw, "expected object")
		default:
			add(func(t *model.Tenant) { t.Config = m })
		}
	}
	if fo, isNull, ok := o.Object("flags"); ok {
		flags := map[string]bool{}
		if !isNull {
			if len(fo.Names()) > maxTenantFlags {
				o.Errs().Add("Invalid value for field flags (at most %d flags)", maxTenantFlags)
			}
			for _, name := range fo.Names() {
				var v bool
				if !flagRE.MatchString(name) {
					fo.Take(name)
					fo.Errs().Add("Invalid flag name %s in field flags (a-z, 0-9 and _)", strconv.Quote(name))
					continue
				}
				if fo.Bool(name, &v) {
					flags[name] = v
				}
			}
		}
		fo.Finish()
		// Flags merge: given ones change, others keep their value.
		add(func(t *model.Tenant) {
			if isNull {
				t.Flags = nil
				return
			}
			merged := make(map[string]bool, len(t.Flags)+len(flags))
			for k, v := range t.Flags {
				merged[k] = v
			}
			for k, v := range flags {
				merged[k] = v
			}
			t.Flags = merged
		})
	}
	o.Finish()
	return sets, o.Errs().Err()
}

func checkTenant(t model.Tenant) error {
	v := &rest.Problems{}
	if t.SessionLifetime > 0 && t.IdleSessionLifetime > t.SessionLifetime {
		v.Add("Invalid value %g (number) for field idle_session_lifetime (must not exceed session_lifetime)", t.IdleSessionLifetime)
	}
	if t.SessionLifetimeInMinutes > 0 && t.IdleSessionLifetimeInMinutes > t.SessionLifetimeInMinutes {
		v.Add("Invalid value %d (number) for field idle_session_lifetime_in_minutes (must not exceed session_lifetime_in_minutes)", t.IdleSessionLifetimeInMinutes)
	}
	return v.Err()
}

// ---- handlers ----

// tenantSettings is the tenant's settings as a resource.
var tenantSettings = rest.Resource[model.Tenant]{
	Spec: &rest.ListSpec{Fields: tenantFields}, Render: renderTenant,
	Version: func(t model.Tenant) uint64 { return t.Version },
}

func (a *API) getTenantSettings(c *call) error {
	return tenantSettings.Get(c.w, c.r, func() (model.Tenant, error) {
		// Read again: the resolver may serve a cached copy.
		t, err := a.cfg.Repo.GetTenant(c.ctx(), c.tenant.Name)
		return t, repoError(err, whatTenant, c.tenant.Name)
	})
}

func (a *API) updateTenantSettings(c *call) error {
	o, err := rest.ReadObject(c.r, a.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	sets, err := parseTenantSettings(o, c.tenant)
	if err != nil {
		return err
	}
	cas := func(fn func(model.Tenant) (model.Tenant, error)) (model.Tenant, error) {
		return a.cfg.Repo.UpdateTenant(c.ctx(), c.tenant.Name, fn)
	}
	updated, err := tenantSettings.Update(c.r, cas, func(old model.Tenant) (model.Tenant, error) {
		nt := old
		for _, f := range sets {
			f(&nt)
		}
		if err := checkTenant(nt); err != nil {
			return old, err
		}
		return nt, nil
	})
	if err != nil {
		return repoError(err, whatTenant, c.tenant.Name)
	}
	return tenantSettings.OK(c.w, updated)
}
