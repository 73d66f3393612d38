package main

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/dop251/goja"
)

// parseEvent builds the event as plain JS objects. goja's JSON.parse goes
// through encoding/json's token API and was two thirds of a warm call, so
// the event (well-formed JSON from the host) is scanned here; anything
// this scanner does not take falls back to JSON.parse, which then says
// what is wrong.
func (e *engine) parseEvent(event []byte) (goja.Value, error) {
	p := eventParser{vm: e.vm, s: event}
	v, err := p.value(0)
	if err == nil {
		p.space()
		if p.i != len(p.s) {
			err = errors.New("trailing data")
		}
	}
	if err != nil {
		return e.parse(goja.Undefined(), e.vm.ToValue(string(event)))
	}
	return v, nil
}

// maxEventDepth bounds nesting, so a deep event cannot exhaust the stack.
const maxEventDepth = 200

var errSyntax = errors.New("not the JSON this scanner takes")

type eventParser struct {
	vm *goja.Runtime
	s  []byte
	i  int
}

func (p *eventParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *eventParser) value(depth int) (goja.Value, error) {
	if depth > maxEventDepth {
		return nil, errSyntax
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errSyntax
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return p.vm.ToValue(s), nil
	case c == 't':
		return p.literal("true", p.vm.ToValue(true))
	case c == 'f':
		return p.literal("false", p.vm.ToValue(false))
	case c == 'n':
		return p.literal("null", goja.Null())
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, errSyntax
}

func (p *eventParser) literal(word string, v goja.Value) (goja.Value, error) {
	if len(p.s)-p.i < len(word) || string(p.s[p.i:p.i+len(word)]) != word {
		return nil, errSyntax
	}
	p.i += len(word)
	return v, nil
}

func (p *eventParser) object(depth int) (goja.Value, error) {
	obj := p.vm.NewObject()
	p.i++ // {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return obj, nil
	}
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, errSyntax
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, errSyntax
		}
		p.i++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		// An own data property, as JSON.parse makes: Set would run the
		// __proto__ accessor for that key and change the prototype.
		if err := obj.DefineDataProperty(key, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
			return nil, err
		}
		if done, err := p.separator('}'); err != nil {
			return nil, err
		} else if done {
			return obj, nil
		}
	}
}

// separator reads what follows a member or an element: ',' (more
// follow) or close (the object or array ends).
func (p *eventParser) separator(close byte) (done bool, err error) {
	p.space()
	if p.i >= len(p.s) {
		return false, errSyntax
	}
	switch p.s[p.i] {
	case ',':
		p.i++
		return false, nil
	case close:
		p.i++
		return true, nil
	}
	return false, errSyntax
}

func (p *eventParser) array(depth int) (goja.Value, error) {
	p.i++ // [
	var items []any
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return p.vm.NewArray(), nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		if done, err := p.separator(']'); err != nil {
			return nil, err
		} else if done {
			return p.vm.NewArray(items...), nil
		}
	}
}

// str reads a string literal; one with escapes is decoded by
// encoding/json (surrogate pairs included).
func (p *eventParser) str() (string, error) {
	start := p.i
	p.i++ // "
	escaped := false
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			if !escaped {
				return string(p.s[start+1 : p.i-1]), nil
			}
			var s string
			if err := json.Unmarshal(p.s[start:p.i], &s); err != nil {
				return "", errSyntax
			}
			return s, nil
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return "", errSyntax
		default:
			p.i++
		}
	}
	return "", errSyntax
}

func (p *eventParser) number() (goja.Value, error) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	if !json.Valid(p.s[start:p.i]) {
		return nil, errSyntax
	}
	lit := string(p.s[start:p.i])
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil && n > -1<<53 && n < 1<<53 && lit != "-0" {
		return p.vm.ToValue(n), nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return nil, errSyntax
	}
	return p.vm.ToValue(f), nil
}
