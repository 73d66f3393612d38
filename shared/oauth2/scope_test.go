package oauth2

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestScopeTokens(t *testing.T) {
	for in, want := range map[string][]string{
		"":                   nil,
		"   ":                nil,
		"a":                  {"a"},
		"read:x write:x":     {"read:x", "write:x"},
		"  a   b  ":          {"a", "b"},
		"a\tb":               {"a\tb"}, // only SP separates (§3.3)
		"openid a a profile": {"openid", "a", "a", "profile"},
	} {
		var got []string
		for tok := range ScopeTokens(in) {
			got = append(got, tok)
		}
		var gotB []string
		for tok := range ScopeTokens([]byte(in)) {
			gotB = append(gotB, string(tok))
		}
		if !slices.Equal(got, want) || !slices.Equal(gotB, want) {
			t.Errorf("%q: %q and %q, want %q", in, got, gotB, want)
		}
	}
	// Breaking out of the loop stops the iterator.
	n := 0
	for range ScopeTokens("a b c") {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("%d tokens after break", n)
	}
}

func TestValidScopeToken(t *testing.T) {
	for tok, want := range map[string]bool{
		"read:things": true, "https://api.test/x": true, "!#[]~": true, "a=b&c": true,
		"": false, "a b": false, `a"b`: false, `a\b`: false, "a\x7f": false, "a\x00": false, "é": false, "a\tb": false,
	} {
		if ValidScopeToken(tok) != want || ValidScopeToken([]byte(tok)) != want {
			t.Errorf("%q: want %v", tok, want)
		}
	}
}

func TestParseScope(t *testing.T) {
	got, err := ParseScope(" openid  profile openid read:x ")
	if err != nil || !slices.Equal(got, []string{"openid", "profile", "read:x"}) {
		t.Fatalf("%q %v", got, err)
	}
	if got, err := ParseScope("  "); got != nil || err != nil {
		t.Fatalf("all spaces: %q %v", got, err)
	}
	for _, bad := range []string{`a "b"`, `a\b`, "a é"} {
		got, err := ParseScope(bad)
		if got != nil || !errors.Is(err, ErrInvalidScope) || !strings.Contains(err.Description(), "§3.3") {
			t.Errorf("%q: %q %v", bad, got, err)
		}
	}
}

func TestAppendGranted(t *testing.T) {
	granted := []string{"read:things", "write:things"}
	for _, tc := range []struct {
		requested, want string
		requestedAny    bool
		err             bool
	}{
		{"", "", false, false},
		{"   ", "", false, false},
		{"read:things", "read:things", true, false},
		{"delete:things read:things", "read:things", true, false},
		{"write:things delete:things write:things read:things", "write:things read:things", true, false},
		{"delete:things admin", "", true, false},
		{`read:things "x"`, "", false, true},
		{`a\b read:things`, "", false, true},
	} {
		for _, asBytes := range []bool{false, true} {
			var out []byte
			var req bool
			var err *Error
			if asBytes {
				out, req, err = AppendGranted([]byte("pre "), []byte(tc.requested), granted)
			} else {
				out, req, err = AppendGranted([]byte("pre "), tc.requested, granted)
			}
			if string(out) != "pre "+tc.want || req != tc.requestedAny || (err != nil) != tc.err {
				t.Errorf("%q (bytes %v): %q %v %v, want %q %v err %v", tc.requested, asBytes, out, req, err, tc.want, tc.requestedAny, tc.err)
			}
			if err != nil && !errors.Is(err, ErrInvalidScope) {
				t.Errorf("%q: %v", tc.requested, err)
			}
		}
	}
}

func TestScopeEdits(t *testing.T) {
	for _, tc := range []struct{ op, list, tok, want string }{
		{"add", "", "a", "a"},
		{"add", "a b", "c", "a b c"},
		{"add", "a b", "b", "a b"},
		{"remove", "a b c", "b", "a c"},
		{"remove", "a b c", "a", "b c"},
		{"remove", "a", "a", ""},
		{"remove", "a b", "z", "a b"},
		{"remove", " a  b ", "a", "b"},
	} {
		var got string
		if tc.op == "add" {
			got = AddScope(tc.list, tc.tok)
		} else {
			got = RemoveScope(tc.list, tc.tok)
		}
		if got != tc.want {
			t.Errorf("%s %q %q: %q, want %q", tc.op, tc.list, tc.tok, got, tc.want)
		}
	}
	if !HasScope("a bb c", []byte("bb")) || HasScope("a bb c", "b") {
		t.Error("HasScope")
	}
}

// The token endpoint runs these on every request that names a scope.
func TestScopeHelpersDoNotAllocate(t *testing.T) {
	req := []byte("write:things delete:things write:things read:things")
	granted := []string{"read:things", "write:things"}
	buf := make([]byte, 0, 128)
	n := testing.AllocsPerRun(100, func() {
		buf, _, _ = AppendGranted(buf[:0], req, granted)
		_ = HasScope(buf, "read:things")
		_ = ValidScopeToken(req)
	})
	if n != 0 {
		t.Fatalf("%.0f allocations", n)
	}
}

// FuzzScope: the tokenizer never yields an empty token or one with a
// space, and joined by single spaces the tokens are the value with its
// space runs collapsed; ParseScope accepts exactly the values whose tokens
// are all valid, without repeats; AppendGranted yields a subset of the
// grant in request order, without repeats.
func FuzzScope(f *testing.F) {
	for _, s := range []string{"", " ", "openid profile", "  a  b ", `a "b"`, "a\\b", "é a", "a a a", "read:things write:things"} {
		f.Add(s, "read:things a b")
	}
	f.Fuzz(func(t *testing.T, s, grantValue string) {
		var toks []string
		for tok := range ScopeTokens(s) {
			if tok == "" || strings.Contains(tok, " ") {
				t.Fatalf("token %q of %q", tok, s)
			}
			toks = append(toks, tok)
		}
		if !sameFields(s, toks) {
			t.Fatalf("%q: tokens %q", s, toks)
		}
		allValid := true
		for _, tok := range toks {
			allValid = allValid && ValidScopeToken(tok)
		}
		parsed, err := ParseScope(s)
		if (err == nil) != allValid {
			t.Fatalf("%q: ParseScope error %v, all valid %v", s, err, allValid)
		}
		if err == nil {
			for i, p := range parsed {
				if slices.Contains(parsed[:i], p) || !slices.Contains(toks, p) {
					t.Fatalf("%q: parsed %q", s, parsed)
				}
			}
		}
		granted := strings.Split(grantValue, " ")
		out, requested, gerr := AppendGranted(nil, s, granted)
		if (gerr == nil) != allValid || gerr == nil && requested != (len(toks) > 0) {
			t.Fatalf("%q: AppendGranted %q %v %v", s, out, requested, gerr)
		}
		// In request order: each token's first request comes after the
		// previous one's.
		var got []string
		last := -1
		for tok := range ScopeTokens(string(out)) {
			at := slices.Index(toks, tok)
			if slices.Contains(got, tok) || !slices.Contains(granted, tok) || at <= last {
				t.Fatalf("%q ∩ %q: %q", s, granted, out)
			}
			got, last = append(got, tok), at
		}
		if len(out) > 0 && (out[0] == ' ' || out[len(out)-1] == ' ' || strings.Contains(string(out), "  ")) {
			t.Fatalf("%q: spacing of %q", s, out)
		}
	})
}

// sameFields reports whether toks are the space-separated fields of s.
func sameFields(s string, toks []string) bool {
	var want []string
	for _, f := range strings.Split(s, " ") {
		if f != "" {
			want = append(want, f)
		}
	}
	return slices.Equal(want, toks)
}
