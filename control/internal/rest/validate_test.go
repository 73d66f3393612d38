package rest

import "testing"

func TestChecks(t *testing.T) {
	tests := []struct {
		name   string
		check  func(string) (string, string)
		in     string
		want   string // the value kept; ignored when refused
		refuse bool
	}{
		{"redirect https", CheckRedirectURL, "https://app.test/cb?x=1", "https://app.test/cb?x=1", false},
		{"redirect native scheme", CheckRedirectURL, "com.example.app:/cb", "com.example.app:/cb", false},
		{"redirect fragment", CheckRedirectURL, "https://app.test/cb#f", "", true},
		{"redirect wildcard", CheckRedirectURL, "https://*.app.test/cb", "", true},
		{"redirect javascript", CheckRedirectURL, "javascript:alert(1)", "", true},
		{"redirect relative", CheckRedirectURL, "/cb", "", true},
		{"redirect http without host", CheckRedirectURL, "http:/cb", "", true},
		{"redirect space", CheckRedirectURL, "https://app.test/a b", "", true},
		{"web https", func(s string) (string, string) { return CheckWebURL(s, false) }, "https://x.test/logo.png", "https://x.test/logo.png", false},
		{"web http refused", func(s string) (string, string) { return CheckWebURL(s, false) }, "http://x.test/", "", true},
		{"web http allowed", func(s string) (string, string) { return CheckWebURL(s, true) }, "http://x.test/", "http://x.test/", false},
		{"web userinfo", func(s string) (string, string) { return CheckWebURL(s, true) }, "https://u:p@x.test/", "", true},
		{"optional web empty", OptionalWebURL(false), "", "", false},
		{"origin lower-cased", CheckOrigin, "HTTPS://App.Test:8443/", "https://app.test:8443", false},
		{"origin with path", CheckOrigin, "https://app.test/x", "", true},
		{"origin with query", CheckOrigin, "https://app.test?", "", true},
		{"text within", CheckText(3), "äöü", "äöü", false},
		{"text too long", CheckText(3), "abcd", "", true},
		{"token", CheckToken(5), "a:b", "a:b", false},
		{"token empty", CheckToken(5), "", "", true},
		{"token space", CheckToken(5), "a b", "", true},
		{"token long", CheckToken(2), "abc", "", true},
		{"email", CheckEmail, "a@b.test", "a@b.test", false},
		{"email empty", CheckEmail, "", "", false},
		{"email with name", CheckEmail, "A <a@b.test>", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := tt.check(tt.in)
			if (reason != "") != tt.refuse || (!tt.refuse && got != tt.want) {
				t.Fatalf("check(%q) = %q, %q", tt.in, got, reason)
			}
		})
	}
}

func TestFirstDuplicate(t *testing.T) {
	tests := []struct {
		list []string
		dup  string
		ok   bool
	}{
		{nil, "", false},
		{[]string{"a", "b"}, "", false},
		{[]string{"a", "b", "a", "b"}, "a", true},
	}
	for _, tt := range tests {
		if d, ok := FirstDuplicate(tt.list); d != tt.dup || ok != tt.ok {
			t.Errorf("FirstDuplicate(%v) = %q, %v", tt.list, d, ok)
		}
	}
}
