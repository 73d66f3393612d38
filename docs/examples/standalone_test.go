package examples

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestDocsStandAlone: the Markdown a user reads (README, docs/, bench/,
// actions-runtime/) must not send them to reference material that lives
// beside the repository, not in it (../shared/, its API.md): what they
// need is written into docs/ and linked there.
func TestDocsStandAlone(t *testing.T) {
	out, err := exec.Command("git", "-C", "../..", "ls-files", "*.md").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	files := strings.Fields(string(out))
	if len(files) == 0 {
		t.Fatal("git ls-files found no Markdown file")
	}
	for _, f := range files {
		data, err := os.ReadFile("../../" + f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		for i, line := range strings.Split(text, "\n") {
			if strings.Contains(line, "API.md") || strings.Contains(line, "../shared/") {
				t.Errorf("%s:%d cites reference material outside the repository: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
