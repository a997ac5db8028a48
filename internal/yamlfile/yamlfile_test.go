package yamlfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	parse := func(b []byte) (map[string]any, error) {
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			return nil, Syntax(err)
		}
		if _, ok := m["bad"]; ok {
			return nil, LineError(2, "bad key")
		}
		if _, ok := m["plain"]; ok {
			return nil, errors.New("no line")
		}
		return m, nil
	}
	for _, tc := range []struct {
		name, body, want string
	}{
		{"ok.yaml", "a: 1\n", ""},
		{"bad.yaml", "a: 1\nbad: 2\n", "bad.yaml:2: bad key"},
		{"syntax.yaml", "a: 1\n  b: [\n", "syntax.yaml:2: yaml: line 2:"},
		{"plain.yaml", "plain: 1\n", "plain.yaml: no line"},
		{"big.yaml", "a: " + strings.Repeat("x", 100) + "\n", "big.yaml: larger than 64 bytes"},
	} {
		_, err := Load(write(tc.name, tc.body), 64, parse)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Load(filepath.Join(dir, "absent.yaml"), 64, parse); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
