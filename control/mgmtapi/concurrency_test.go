package mgmtapi_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentPatchesLoseNothing: N concurrent PATCHes of different
// fields of one client all land (the repository's compare-and-swap
// closures re-apply each change to the current record).
func TestConcurrentPatchesLoseNothing(t *testing.T) {
	e := sharedEnv(t)
	c := createClient(t, e, map[string]any{"name": "contended", "app_type": "web"})
	id := c["client_id"].(string)
	tok := e.token(t, "update:clients", "read:clients")

	const n = 12
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Writers share four fields, three each: a lost update would
			// leave one of them empty.
			body := map[string]any{}
			switch i % 4 {
			case 0:
				body["description"] = fmt.Sprintf("d%d", i)
			case 1:
				body["display_name"] = fmt.Sprintf("n%d", i)
			case 2:
				body["form_template"] = fmt.Sprintf("f%d", i)
			case 3:
				body["custom_login_page"] = fmt.Sprintf("p%d", i)
			}
			r := e.do(t, req{method: "PATCH", path: "/clients/" + id, body: body, token: tok})
			if r.status != 200 {
				errs <- r.String()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r := e.do(t, req{path: "/clients/" + id, token: tok})
	got := r.object(t)
	for _, k := range []string{"description", "display_name", "form_template", "custom_login_page"} {
		if got[k] == "" {
			t.Errorf("%s lost", k)
		}
	}
}

// TestConcurrentReadModifyWrite: N writers each append their own entry to
// one list by read, modify, PATCH with If-Match, retrying on 412. Every
// entry is there at the end: no lost update.
func TestConcurrentReadModifyWrite(t *testing.T) {
	e := sharedEnv(t)
	c := createClient(t, e, map[string]any{"name": "rmw", "app_type": "web"})
	path := "/clients/" + c["client_id"].(string)
	tok := e.token(t, "update:clients", "read:clients")

	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	stale := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := fmt.Sprintf("alias-%d", i)
			for attempt := 0; attempt < 200; attempt++ {
				r := e.do(t, req{path: path, token: tok})
				if r.status != 200 {
					t.Error(r)
					return
				}
				var cur struct {
					Aliases []string `json:"client_aliases"`
				}
				r.decode(t, &cur)
				next := append(cur.Aliases, mine)
				w := e.do(t, req{method: "PATCH", path: path, token: tok, body: map[string]any{"client_aliases": next},
					headers: map[string]string{"If-Match": r.header.Get("ETag")}})
				switch w.status {
				case 200:
					return
				case 412:
					mu.Lock()
					stale++
					mu.Unlock()
					continue
				default:
					t.Error(w)
					return
				}
			}
			t.Errorf("writer %d never won", i)
		}()
	}
	wg.Wait()
	r := e.do(t, req{path: path, token: tok})
	var final struct {
		Aliases []string `json:"client_aliases"`
	}
	r.decode(t, &final)
	slices.Sort(final.Aliases)
	if len(final.Aliases) != n {
		t.Fatalf("aliases %v: lost updates", final.Aliases)
	}
	t.Logf("%d stale If-Match retries", stale)
}

func TestIfMatch(t *testing.T) {
	e := sharedEnv(t)
	c := createClient(t, e, map[string]any{"name": "etag", "app_type": "spa"})
	path := "/clients/" + c["client_id"].(string)
	r := e.do(t, req{path: path})
	etag := r.header.Get("ETag")

	tests := []struct {
		name, ifMatch string
		status        int
	}{
		{"weak never matches", "W/" + etag, 412},
		{"other version", `"1"`, 412},
		{"garbage", "nonsense", 412},
		{"one of a list", `"1", ` + etag, 200},
		{"star", "*", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, req{method: "PATCH", path: path, body: map[string]any{"description": tt.name}, headers: map[string]string{"If-Match": tt.ifMatch}})
			if tt.status == 412 {
				wantError(t, r, 412, "precondition_failed")
				return
			}
			wantStatus(t, r, tt.status)
			etag = r.header.Get("ETag")
		})
	}
	// A bare version works too; the old one is stale afterwards.
	bare := strings.Trim(etag, `"`)
	wantStatus(t, e.do(t, req{method: "POST", path: path + "/rotate-secret", headers: map[string]string{"If-Match": bare}}), 200)
	wantError(t, e.do(t, req{method: "POST", path: path + "/rotate-secret", headers: map[string]string{"If-Match": bare}}), 412, "precondition_failed")
	wantError(t, e.do(t, req{method: "PATCH", path: path, body: map[string]any{}, headers: map[string]string{"If-Match": etag}}), 412, "precondition_failed")
	// Resource servers and tenant settings honour it as well.
	r = e.do(t, req{method: "POST", path: "/resource-servers", body: map[string]any{"identifier": e.unique("urn:etag")}})
	wantStatus(t, r, 201)
	rsPath := "/resource-servers/" + r.object(t)["id"].(string)
	old := r.header.Get("ETag")
	wantStatus(t, e.do(t, req{method: "PATCH", path: rsPath, body: map[string]any{"name": "a"}, headers: map[string]string{"If-Match": old}}), 200)
	wantError(t, e.do(t, req{method: "PATCH", path: rsPath, body: map[string]any{"name": "b"}, headers: map[string]string{"If-Match": old}}), 412, "precondition_failed")
}

// TestMethodNotAllowed: a documented path with a method it does not serve
// gets the control server's JSON 405 (outside the document, so through
// the unrecorded client).
func TestMethodNotAllowed(t *testing.T) {
	e := sharedEnv(t)
	r := e.do(t, req{method: "PUT", path: "/clients", body: `{}`, client: rawClient})
	wantError(t, r, 405, "method_not_allowed")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q", allow)
	}
	wantError(t, e.do(t, req{path: "/users", client: rawClient}), 404, "not_found")
}
