package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestIDsUniqueAndWellFormed(t *testing.T) {
	id := regexp.MustCompile(`^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, r := range All {
		if !id.MatchString(r.ID) {
			t.Errorf("rule id %q is not of the form area/words-with-dashes", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("rule %q listed twice", r.ID)
		}
		seen[r.ID] = true
		if r.Summary == "" || r.Help == "" {
			t.Errorf("rule %q lacks a summary or help", r.ID)
		}
		if got, ok := Lookup(r.ID); !ok || got.ID != r.ID {
			t.Errorf("Lookup(%q) = %v, %v", r.ID, got, ok)
		}
	}
	if _, ok := Lookup("no/such-rule"); ok {
		t.Error("Lookup found a rule that does not exist")
	}
}

// TestREADME keeps the README's rule table in step with All: every rule has
// a row with its severity and summary, and no row names a rule that is gone.
func TestREADME(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, r := range All {
		row := "| `" + r.ID + "` | " + r.Severity.String() + " | " + r.Summary + " | " + r.Help + " |"
		if !strings.Contains(readme, row) {
			t.Errorf("README lacks the row:\n%s", row)
		}
	}
	rows := regexp.MustCompile("(?m)^\\| `([a-z]+/[a-z0-9-]+)` \\|").FindAllStringSubmatch(readme, -1)
	for _, m := range rows {
		if _, ok := Lookup(m[1]); !ok {
			t.Errorf("README lists rule %q, which does not exist", m[1])
		}
	}
}
