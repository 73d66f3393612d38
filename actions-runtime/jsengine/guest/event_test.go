package main

import (
	"testing"

	"github.com/dop251/goja"
)

// TestEventParser: the scanner takes well-formed events itself (no
// fallback to JSON.parse) and builds what JSON.parse builds; it refuses
// what JSON refuses. (Native test of the parser alone; actions run only
// in the sandbox, see ../jsengine_test.go.)
func TestEventParser(t *testing.T) {
	e := newEngine()
	good := []string{
		`{}`, `[]`, ` { "a" : [ 1 , 2 ] } `, `"x"`, `-0`, `1e3`, `-1.5E-2`, `null`, `true`,
		`{"s":"a\"b\\c\/\u00e9\ud83d\ude00\n","u":"é😀","__proto__":{"p":1},"n":[[],{},[{"x":false}]]}`,
	}
	for _, doc := range good {
		p := eventParser{vm: e.vm, s: []byte(doc)}
		v, err := p.value(0)
		if p.space(); err != nil || p.i != len(doc) {
			t.Errorf("%s: not taken by the scanner: %v", doc, err)
			continue
		}
		want, err := e.parse(goja.Undefined(), e.vm.ToValue(doc))
		if err != nil {
			t.Fatal(err)
		}
		g, _ := e.stringify(goja.Undefined(), v)
		w, _ := e.stringify(goja.Undefined(), want)
		if g.String() != w.String() {
			t.Errorf("%s: scanner %s, JSON.parse %s", doc, g, w)
		}
	}
	for _, doc := range []string{``, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `01`, `+1`, `1.`, `"\x"`, "\"\x01\"", `tru`, `{"a":1}}`, `nul`} {
		p := eventParser{vm: e.vm, s: []byte(doc)}
		_, err := p.value(0)
		p.space()
		if err == nil && p.i == len(doc) {
			t.Errorf("%q taken as JSON", doc)
		}
	}
}

// FuzzEventParser: whatever the scanner takes whole, JSON.parse takes too
// and builds the same value; it never panics on any input.
func FuzzEventParser(f *testing.F) {
	for _, seed := range []string{`{}`, `{"a":[1,2,{"b":null}]}`, `"\u00e9"`, `-1.5E-2`, `{"__proto__":{"p":1}}`, `[1,]`, `{"a"}`} {
		f.Add([]byte(seed))
	}
	e := newEngine()
	f.Fuzz(func(t *testing.T, doc []byte) {
		p := eventParser{vm: e.vm, s: doc}
		v, err := p.value(0)
		if p.space(); err != nil || p.i != len(doc) {
			return // the engine falls back to JSON.parse for these
		}
		want, err := e.parse(goja.Undefined(), e.vm.ToValue(string(doc)))
		if err != nil {
			t.Fatalf("%q: taken by the scanner, refused by JSON.parse: %v", doc, err)
		}
		g, _ := e.stringify(goja.Undefined(), v)
		w, _ := e.stringify(goja.Undefined(), want)
		if g.String() != w.String() {
			t.Fatalf("%q: scanner %s, JSON.parse %s", doc, g, w)
		}
	})
}
