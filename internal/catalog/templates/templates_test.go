package templates

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

func scan(t *testing.T, files map[string]string) *inventory.Report {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := inventory.Scan(context.Background(), []string{dir}, inventory.Options{Catalogers: []inventory.Cataloger{Templates{}}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTemplates(t *testing.T) {
	evil := "{{ ''.__class__.__mro__[1].__subclasses__() }}"
	r := scan(t, map[string]string{
		"chat_template.jinja": evil,
		"prompt.j2":           "{% for m in messages %}{{ m['content'] }}{% endfor %}",
		"evil.txt":            evil,              // not a template name: not read
		"binary.jinja":        "\x00\x01" + evil, // not text: not a template
	})
	var got []string
	for _, f := range r.Findings {
		got = append(got, filepath.Base(f.Path)+" "+f.Rule)
		if f.Line != 1 || f.Offset == nil {
			t.Errorf("finding without its place: %+v", f)
		}
	}
	if len(got) == 0 || !strings.HasPrefix(got[0], "chat_template.jinja template/dunder-access") {
		t.Errorf("findings = %q, want dunder access in chat_template.jinja only", got)
	}
	for _, g := range got {
		if !strings.HasPrefix(g, "chat_template.jinja") {
			t.Errorf("unexpected finding %q", g)
		}
	}
}

func TestTemplateLimit(t *testing.T) {
	r := scan(t, map[string]string{"big.jinja": strings.Repeat("a", 2<<20)})
	if len(r.Findings) != 1 || r.Findings[0].Rule != inventory.RuleScanLimit {
		t.Errorf("findings = %+v, want one scan/limit", r.Findings)
	}
}
