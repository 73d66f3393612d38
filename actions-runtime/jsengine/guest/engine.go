package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// Trigger numbers of ABI v1 (actions-runtime/abi; not imported, so the
// guest does not link wazero).
const (
	postLogin            = 1
	credentialsExchange  = 2
	preUserRegistration  = 3
	postUserRegistration = 4
	postChangePassword   = 5
	sendPhoneMessage     = 6
)

// entryNames are the functions a trigger calls, Auth0's name first and
// Authok's second (API.md D.1).
var entryNames = map[int32][]string{
	postLogin:            {"onExecutePostLogin", "onPostLogin"},
	credentialsExchange:  {"onExecuteCredentialsExchange"},
	preUserRegistration:  {"onExecutePreUserRegistration"},
	postUserRegistration: {"onExecutePostUserRegistration", "onPostUserRegister"},
	postChangePassword:   {"onExecutePostChangePassword"},
	sendPhoneMessage:     {"onExecuteSendPhoneMessage"},
}

// Limits the ABI puts on a reported error (abi.Decode refuses longer ones).
const (
	maxErrName    = 256
	maxErrMessage = 1024
	maxErrStack   = 4096
	// maxLogBytes is the ABI's per-invocation log budget; console output
	// past it is not even formatted.
	maxLogBytes = 10 << 10
	// maxCallStack turns runaway recursion into a RangeError long before
	// the memory ceiling.
	maxCallStack = 4096
)

// gcPercent trades memory for CPU: the guest's GC is single-threaded and
// slow in WebAssembly, and a warm call allocates little, so collecting
// less often cuts both the mean and the pauses (see bench/README.md).
const gcPercent = 400

// scriptName is the file name errors and stacks show.
const scriptName = "action.js"

// The CommonJS wrapper, as Node's: the source starts on line 1, so line
// numbers match the tenant's code (columns on line 1 are corrected).
const (
	wrapperHead = "(function (exports, require, module, __filename, __dirname) {"
	wrapperTail = "\n})"
)

// payload is what authok_init receives (jsengine.InitPayload).
type payload struct {
	Source   string  `json:"source"`
	Triggers []int32 `json:"triggers"`
	// MemoryLimit is the instance's ceiling: the GC works harder as the
	// heap nears it rather than letting gcPercent's headroom reach it.
	MemoryLimit int64 `json:"memory_limit"`
}

// engine is the instance's single VM and the action's module.
type engine struct {
	vm        *goja.Runtime
	module    *goja.Object // the CommonJS module; exports read per call
	parse     goja.Callable
	stringify goja.Callable
	logUsed   int // console bytes of the current call
	m         methods
	cur       apiState
}

func newEngine() *engine {
	debug.SetGCPercent(gcPercent)
	vm := goja.New()
	vm.SetMaxCallStackSize(maxCallStack)
	e := &engine{vm: vm}
	js := vm.Get("JSON").ToObject(vm)
	e.parse, _ = goja.AssertFunction(js.Get("parse"))
	e.stringify, _ = goja.AssertFunction(js.Get("stringify"))
	e.installConsole()
	e.makeMethods()
	return e
}

// load compiles and runs the action's source once (the module's top
// level) and checks that every trigger it will serve has an entry point.
func (e *engine) load(p payload) error {
	if e.module != nil {
		return errors.New("the engine is already initialised")
	}
	if p.MemoryLimit > 0 {
		debug.SetMemoryLimit(p.MemoryLimit / 4 * 3)
	}
	prog, err := parser.ParseFile(nil, scriptName, wrapperHead+p.Source+wrapperTail, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return syntaxError(err)
	}
	if err := checkRequires(prog); err != nil {
		return err
	}
	compiled, err := goja.CompileAST(prog, false)
	if err != nil {
		return fmt.Errorf("SyntaxError: %v", err)
	}
	wrapper, err := e.vm.RunProgram(compiled)
	if err != nil {
		return fmt.Errorf("evaluating the action: %s", describe(err))
	}
	fn, ok := goja.AssertFunction(wrapper)
	if !ok {
		return errors.New("evaluating the action: the module wrapper is not a function")
	}
	module := e.vm.NewObject()
	exports := e.vm.NewObject()
	_ = module.Set("exports", exports)
	_ = module.Set("id", ".")
	_ = module.Set("filename", "/"+scriptName)
	req := e.vm.ToValue(e.require)
	if _, err := fn(exports, exports, req, module, e.vm.ToValue("/"+scriptName), e.vm.ToValue("/")); err != nil {
		return fmt.Errorf("the action's top-level code threw: %s", describe(err))
	}
	e.module = module
	e.settle()
	var missing []string
	for _, t := range p.Triggers {
		names, ok := entryNames[t]
		if !ok {
			return fmt.Errorf("unknown trigger %d", t)
		}
		if e.entry(t) == nil {
			missing = append(missing, strings.Join(names, " or "))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the action exports no %s function (exports.%s = async (event, api) => {...})",
			strings.Join(missing, ", no "), entryNames[p.Triggers[0]][0])
	}
	return nil
}

// settle readies the instance for calls before the first one: it grows
// the heap once to the size calls will reach under gcPercent, then
// collects, so that no call pays for growing the linear memory (a copy
// of all of it) or for the first, largest collection.
func (e *engine) settle() {
	ballast := make([]byte, settleBytes)
	runtime.KeepAlive(ballast)
	ballast = nil
	runtime.GC()
}

// settleBytes is how far settle grows the heap.
const settleBytes = 24 << 20

// entry finds the trigger's exported function, or nil.
func (e *engine) entry(t int32) goja.Callable {
	exports := e.module.Get("exports")
	if exports == nil || goja.IsUndefined(exports) || goja.IsNull(exports) {
		return nil
	}
	obj := exports.ToObject(e.vm)
	for _, name := range entryNames[t] {
		if fn, ok := goja.AssertFunction(obj.Get(name)); ok {
			return fn
		}
	}
	return nil
}

// syntaxError reports a parse error with the tenant's line and column.
func syntaxError(err error) error {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		pos := list[0].Position
		col := pos.Column
		if pos.Line == 1 {
			col -= len(wrapperHead)
		}
		if col < 1 {
			col = 1
		}
		return fmt.Errorf("SyntaxError: line %d, column %d: %s", pos.Line, col, list[0].Message)
	}
	return fmt.Errorf("SyntaxError: %v", err)
}

// modules are what require() offers. None in this version: there is no
// npm install, and the platform's own helpers are on event and api.
var modules = map[string]bool{}

func availableModules() string {
	if len(modules) == 0 {
		return "none"
	}
	names := make([]string, 0, len(modules))
	for n := range modules {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func requireError(what string) string {
	return fmt.Sprintf("%s: npm dependencies are not supported in this version of Actions; modules available to require: %s", what, availableModules())
}

// require is the CommonJS require the module sees. It never finds
// anything outside modules (checkRequires refused the source already;
// this covers require reached some other way, e.g. through eval).
func (e *engine) require(call goja.FunctionCall) goja.Value {
	name := call.Argument(0).String()
	panic(e.vm.NewGoError(errors.New(requireError(fmt.Sprintf("require(%q)", name)))))
}

// checkRequires refuses, before anything runs, every call of require
// whose argument is not a string literal naming an available module, so
// that a deploy fails and not the first token request.
func checkRequires(prog *ast.Program) error {
	var bad []string
	walkAST(reflect.ValueOf(prog), func(call *ast.CallExpression) {
		id, ok := call.Callee.(*ast.Identifier)
		if !ok || id.Name != "require" {
			return
		}
		line := prog.File.Position(int(call.LeftParenthesis) - prog.File.Base()).Line
		if len(call.ArgumentList) == 1 {
			if s, ok := call.ArgumentList[0].(*ast.StringLiteral); ok {
				if !modules[s.Value.String()] {
					bad = append(bad, fmt.Sprintf("require(%q) on line %d", s.Value.String(), line))
				}
				return
			}
		}
		bad = append(bad, fmt.Sprintf("require(...) on line %d (not a string literal)", line))
	})
	if len(bad) > 0 {
		return errors.New(requireError(strings.Join(bad, ", ")))
	}
	return nil
}

var astPkg = reflect.TypeOf(ast.Program{}).PkgPath()

// walkAST calls fn for every call expression under v. goja's ast has no
// visitor, so this follows the ast package's pointers, slices, structs and
// interfaces by reflection (nothing outside that package holds nodes).
func walkAST(v reflect.Value, fn func(*ast.CallExpression)) {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Kind() == reflect.Pointer {
			if c, ok := v.Interface().(*ast.CallExpression); ok {
				fn(c)
			}
		}
		walkAST(v.Elem(), fn)
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkAST(v.Index(i), fn)
		}
	case reflect.Struct:
		if v.Type().PkgPath() != astPkg {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walkAST(v.Field(i), fn)
			}
		}
	}
}

// jsError is one entry of the result's errors.
type jsError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
}

type command struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

type result struct {
	Commands []command `json:"commands,omitempty"`
	Errors   []jsError `json:"errors,omitempty"`
}

// call runs the trigger's entry point on the event and returns the result
// JSON. Every call gets a fresh event and api object; the VM (and so the
// action's globals) is the instance's.
func (e *engine) call(trigger int32, event []byte) []byte {
	if e.module == nil {
		return marshal(result{Errors: []jsError{{Name: "Error", Message: "the engine has no action loaded (the host must call authok_init)"}}})
	}
	names, ok := entryNames[trigger]
	if !ok {
		return marshal(result{Errors: []jsError{{Name: "Error", Message: fmt.Sprintf("unknown trigger %d", trigger)}}})
	}
	fn := e.entry(trigger)
	if fn == nil {
		return marshal(result{Errors: []jsError{{Name: "Error", Message: "the action exports no " + strings.Join(names, " or ") + " function"}}})
	}
	e.logUsed = 0
	var res result
	ev, err := e.parseEvent(event)
	if err != nil {
		return marshal(result{Errors: []jsError{e.jsError(err)}})
	}
	api := e.newAPI(trigger, &res.Commands)
	defer func() { e.cur = apiState{} }()
	ret, err := fn(goja.Undefined(), ev, api)
	if err != nil {
		res.Errors = append(res.Errors, e.jsError(err))
		return marshal(res)
	}
	// Promise jobs have run when fn returned: goja drains its job queue
	// as control leaves the VM. A promise still pending now can only be
	// settled by something that will never happen (there are no timers
	// or I/O), so it is an error, not a wait.
	if p, ok := ret.Export().(*goja.Promise); ok {
		switch p.State() {
		case goja.PromiseStateRejected:
			res.Errors = append(res.Errors, e.thrown(p.Result()))
		case goja.PromiseStatePending:
			res.Errors = append(res.Errors, jsError{Name: "Error", Message: "the handler's promise never settled (nothing is left that could resolve it: there are no timers or I/O)"})
		}
	}
	return marshal(res)
}

// jsError converts a Go error from the VM.
func (e *engine) jsError(err error) jsError {
	var so *goja.StackOverflowError
	if errors.As(err, &so) { // uncatchable in goja; a RangeError in Node
		return clip(jsError{Name: "RangeError", Message: "Maximum call stack size exceeded", Stack: err.Error()})
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return e.thrown(ex.Value())
	}
	return clip(jsError{Name: "Error", Message: err.Error()})
}

// thrown converts a thrown (or rejection) value.
func (e *engine) thrown(v goja.Value) jsError {
	je := jsError{Name: "Error"}
	if obj, ok := v.(*goja.Object); ok {
		if n := obj.Get("name"); n != nil && !goja.IsUndefined(n) {
			je.Name = n.String()
		}
		if m := obj.Get("message"); m != nil && !goja.IsUndefined(m) {
			je.Message = m.String()
		} else {
			je.Message = v.String()
		}
		if s := obj.Get("stack"); s != nil && !goja.IsUndefined(s) {
			je.Stack = s.String()
		}
	} else if v != nil {
		je.Message = v.String()
	}
	return clip(je)
}

// describe is one line for an error during load.
func describe(err error) string {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		if obj, ok := ex.Value().(*goja.Object); ok {
			return obj.String()
		}
		if ex.Value() != nil {
			return ex.Value().String()
		}
	}
	return err.Error()
}

func clip(e jsError) jsError {
	e.Name = truncate(e.Name, maxErrName)
	e.Message = truncate(e.Message, maxErrMessage)
	e.Stack = truncate(e.Stack, maxErrStack)
	return e
}

// truncate cuts s to at most n bytes without splitting a rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func marshal(r result) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(result{Errors: []jsError{{Name: "Error", Message: "encoding the result: " + truncate(err.Error(), 512)}}})
	}
	return b
}

// installConsole defines console.log/info/debug (stdout) and warn/error
// (stderr); the host captures both streams as the invocation's logs.
func (e *engine) installConsole() {
	console := e.vm.NewObject()
	for name, w := range map[string]*os.File{"log": os.Stdout, "info": os.Stdout, "debug": os.Stdout, "warn": os.Stderr, "error": os.Stderr} {
		w := w
		_ = console.Set(name, func(call goja.FunctionCall) goja.Value {
			if e.logUsed > maxLogBytes {
				return goja.Undefined()
			}
			var b strings.Builder
			for i, a := range call.Arguments {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(e.format(a))
				if b.Len() > maxLogBytes {
					break
				}
			}
			b.WriteByte('\n')
			line := truncate(b.String(), maxLogBytes+1)
			e.logUsed += len(line)
			_, _ = w.WriteString(line)
			return goja.Undefined()
		})
	}
	_ = e.vm.Set("console", console)
}

// format prints a console argument: strings as they are, errors with
// their stack, everything else as JSON where it can be.
func (e *engine) format(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		return v.String()
	}
	if _, isFn := goja.AssertFunction(v); isFn {
		return "[Function]"
	}
	if s := obj.Get("stack"); s != nil && !goja.IsUndefined(s) {
		return s.String()
	}
	out, err := e.stringify(goja.Undefined(), v)
	if err != nil || out == nil || goja.IsUndefined(out) {
		return v.String()
	}
	return out.String()
}
