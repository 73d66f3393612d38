package main

import (
	"encoding/json"

	"github.com/dop251/goja"
)

// apiState is the call in progress: the commands it issued and its api
// object (what a method returns, so calls chain as in Auth0).
type apiState struct {
	cmds *[]command
	api  *goja.Object
}

// methods are the api's native functions, made once per engine: a call
// gets fresh api objects holding these same functions, which act on the
// call in progress.
type methods struct {
	setAccessClaim, setIDClaim, addScope, removeScope goja.Value
	deny, setUserMetadata, setAppMetadata, mfaEnable  goja.Value
}

func (e *engine) add(typ string, data any) goja.Value {
	*e.cur.cmds = append(*e.cur.cmds, command{Type: typ, Data: data})
	return e.cur.api
}

func (e *engine) makeMethods() {
	fn := func(f func(goja.FunctionCall) goja.Value) goja.Value { return e.vm.ToValue(f) }
	claim := func(target string) goja.Value {
		return fn(func(c goja.FunctionCall) goja.Value {
			name := e.stringArg(c, 0, "setCustomClaim", "name")
			return e.add("SetCustomClaim", map[string]any{"target": target, "name": name, "value": e.jsonArg(c, 1, "setCustomClaim")})
		})
	}
	e.m.setAccessClaim = claim("accessToken")
	e.m.setIDClaim = claim("idToken")
	e.m.addScope = fn(func(c goja.FunctionCall) goja.Value {
		return e.add("AddScope", map[string]any{"target": "accessToken", "scope": e.stringArg(c, 0, "addScope", "scope")})
	})
	e.m.removeScope = fn(func(c goja.FunctionCall) goja.Value {
		return e.add("RemoveScope", map[string]any{"target": "accessToken", "scope": e.stringArg(c, 0, "removeScope", "scope")})
	})
	// deny(reason), or Auth0's credentials-exchange deny(code, reason):
	// the reason is the last argument.
	e.m.deny = fn(func(c goja.FunctionCall) goja.Value {
		i := 0
		if len(c.Arguments) >= 2 {
			i = 1
		}
		return e.add("AccessDenied", e.stringArg(c, i, "deny", "reason"))
	})
	meta := func(target, name string) goja.Value {
		return fn(func(c goja.FunctionCall) goja.Value {
			key := e.stringArg(c, 0, name, "key")
			return e.add("SetMetadata", map[string]any{"target": target, "key": key, "value": e.jsonArg(c, 1, name)})
		})
	}
	e.m.setUserMetadata = meta("user", "setUserMetadata")
	e.m.setAppMetadata = meta("application", "setAppMetadata")
	e.m.mfaEnable = fn(func(c goja.FunctionCall) goja.Value {
		data := map[string]any{"provider": e.stringArg(c, 0, "multifactor.enable", "provider")}
		if o := c.Argument(1); !goja.IsUndefined(o) && !goja.IsNull(o) {
			data["options"] = e.jsonArg(c, 1, "multifactor.enable")
		}
		return e.add("RequireMultifactor", data)
	})
}

// newAPI builds the trigger's api object (API.md D.3) for one call: only
// the methods the trigger accepts exist, so calling another one is a
// TypeError the result reports. Each method appends one command to cmds.
func (e *engine) newAPI(trigger int32, cmds *[]command) *goja.Object {
	vm := e.vm
	api := vm.NewObject()
	e.cur = apiState{cmds: cmds, api: api}
	obj := func(kv ...any) *goja.Object {
		o := vm.NewObject()
		for i := 0; i < len(kv); i += 2 {
			_ = o.Set(kv[i].(string), kv[i+1])
		}
		return o
	}
	switch trigger {
	case credentialsExchange:
		_ = api.Set("accessToken", obj("setCustomClaim", e.m.setAccessClaim, "addScope", e.m.addScope, "removeScope", e.m.removeScope))
		_ = api.Set("access", obj("deny", e.m.deny))
	case postLogin:
		_ = api.Set("accessToken", obj("setCustomClaim", e.m.setAccessClaim, "addScope", e.m.addScope, "removeScope", e.m.removeScope))
		_ = api.Set("idToken", obj("setCustomClaim", e.m.setIDClaim))
		_ = api.Set("access", obj("deny", e.m.deny))
		_ = api.Set("user", obj("setUserMetadata", e.m.setUserMetadata, "setAppMetadata", e.m.setAppMetadata))
		_ = api.Set("multifactor", obj("enable", e.m.mfaEnable))
	case preUserRegistration:
		_ = api.Set("access", obj("deny", e.m.deny))
		_ = api.Set("user", obj("setUserMetadata", e.m.setUserMetadata, "setAppMetadata", e.m.setAppMetadata))
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
