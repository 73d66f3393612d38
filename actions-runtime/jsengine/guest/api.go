package main

import (
	"encoding/json"

	"github.com/dop251/goja"
)

// newAPI builds the trigger's api object (API.md D.3): only the methods
// the trigger accepts exist, so calling another one is a TypeError the
// result reports. Each method appends one command and returns api, so
// calls chain as in Auth0.
func (e *engine) newAPI(trigger int32, cmds *[]command) *goja.Object {
	vm := e.vm
	api := vm.NewObject()
	add := func(typ string, data any) goja.Value {
		*cmds = append(*cmds, command{Type: typ, Data: data})
		return api
	}
	method := func(obj *goja.Object, name string, f func(goja.FunctionCall) goja.Value) {
		_ = obj.Set(name, f)
	}
	token := func(target string, scopes bool) *goja.Object {
		obj := vm.NewObject()
		method(obj, "setCustomClaim", func(c goja.FunctionCall) goja.Value {
			name := e.stringArg(c, 0, "setCustomClaim", "name")
			return add("SetCustomClaim", map[string]any{"target": target, "name": name, "value": e.jsonArg(c, 1, "setCustomClaim")})
		})
		if scopes {
			method(obj, "addScope", func(c goja.FunctionCall) goja.Value {
				return add("AddScope", map[string]any{"target": target, "scope": e.stringArg(c, 0, "addScope", "scope")})
			})
			method(obj, "removeScope", func(c goja.FunctionCall) goja.Value {
				return add("RemoveScope", map[string]any{"target": target, "scope": e.stringArg(c, 0, "removeScope", "scope")})
			})
		}
		return obj
	}
	access := func() *goja.Object {
		obj := vm.NewObject()
		// deny(reason), or Auth0's credentials-exchange deny(code, reason):
		// the reason is the last argument.
		method(obj, "deny", func(c goja.FunctionCall) goja.Value {
			i := 0
			if len(c.Arguments) >= 2 {
				i = 1
			}
			return add("AccessDenied", e.stringArg(c, i, "deny", "reason"))
		})
		return obj
	}
	user := func() *goja.Object {
		obj := vm.NewObject()
		method(obj, "setUserMetadata", func(c goja.FunctionCall) goja.Value {
			key := e.stringArg(c, 0, "setUserMetadata", "key")
			return add("SetMetadata", map[string]any{"target": "user", "key": key, "value": e.jsonArg(c, 1, "setUserMetadata")})
		})
		method(obj, "setAppMetadata", func(c goja.FunctionCall) goja.Value {
			key := e.stringArg(c, 0, "setAppMetadata", "key")
			return add("SetMetadata", map[string]any{"target": "application", "key": key, "value": e.jsonArg(c, 1, "setAppMetadata")})
		})
		return obj
	}

	switch trigger {
	case credentialsExchange:
		_ = api.Set("accessToken", token("accessToken", true))
		_ = api.Set("access", access())
	case postLogin:
		_ = api.Set("accessToken", token("accessToken", true))
		_ = api.Set("idToken", token("idToken", false))
		_ = api.Set("access", access())
		_ = api.Set("user", user())
		mfa := vm.NewObject()
		method(mfa, "enable", func(c goja.FunctionCall) goja.Value {
			data := map[string]any{"provider": e.stringArg(c, 0, "multifactor.enable", "provider")}
			if o := c.Argument(1); !goja.IsUndefined(o) && !goja.IsNull(o) {
				data["options"] = e.jsonArg(c, 1, "multifactor.enable")
			}
			return add("RequireMultifactor", data)
		})
		_ = api.Set("multifactor", mfa)
	case preUserRegistration:
		_ = api.Set("access", access())
		_ = api.Set("user", user())
	}
	return api
}

// stringArg returns argument i, which must be a string.
func (e *engine) stringArg(c goja.FunctionCall, i int, fn, what string) string {
	v := c.Argument(i)
	s, ok := v.Export().(string)
	if !ok {
		panic(e.vm.NewTypeError("api %s: the %s must be a string", fn, what))
	}
	return s
}

// jsonArg returns argument i as JSON, as JSON.stringify makes it.
func (e *engine) jsonArg(c goja.FunctionCall, i int, fn string) json.RawMessage {
	out, err := e.stringify(goja.Undefined(), c.Argument(i))
	if err != nil {
		panic(err)
	}
	if out == nil || goja.IsUndefined(out) {
		panic(e.vm.NewTypeError("api %s: the value must be JSON (not undefined or a function)", fn))
	}
	return json.RawMessage(out.String())
}
