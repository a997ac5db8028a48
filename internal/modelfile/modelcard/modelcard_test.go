package modelcard

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRead(t *testing.T) {
	tests := []struct {
		file string
		want *Card
	}{
		{"full.md", &Card{
			License:     []string{"apache-2.0"},
			BaseModel:   []string{"acme/base-7b"},
			Datasets:    []string{"acme/chat-mix", "acme/code: v2"},
			Tags:        []string{"text-generation", "conversational", "it's"},
			Language:    []string{"en", "fr"},
			PipelineTag: "text-generation",
			LibraryName: "transformers",
		}},
		{"other_license.md", &Card{License: []string{"acme-community"}, BaseModel: []string{"acme/base-7b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			c, err := Read(read(t, tc.file), DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c, cmpopts.IgnoreFields(Card{}, "Root")); diff != "" {
				t.Errorf("card (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTree checks the values that are not Card fields: nesting, block
// scalars, flow mappings, escapes.
func TestTree(t *testing.T) {
	c, err := Read(read(t, "full.md"), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Root
	get := func(n *Node, path ...any) *Node {
		for _, p := range path {
			switch p := p.(type) {
			case string:
				n = n.Get(p)
			case int:
				if n == nil || n.Kind != List || p >= len(n.Items) {
					return nil
				}
				n = n.Items[p]
			}
		}
		return n
	}
	tests := []struct {
		path []any
		want string
	}{
		{[]any{"widget", 0, "text"}, "Hello # this is text, not a comment\nworld"},
		{[]any{"widget", 0, "example_title"}, "Greeting"},
		{[]any{"model-index", 0, "results", 0, "task", "type"}, "text-generation"},
		{[]any{"model-index", 0, "results", 0, "dataset", "type"}, "wiki:text"},
		{[]any{"model-index", 0, "results", 0, "metrics", 0, "value"}, "12.3"},
		{[]any{"model-index", 0, "results", 0, "metrics", 0, "verified"}, "false"},
		{[]any{"description"}, "Folded text"},
		{[]any{"quoted"}, "tab\there é"},
		{[]any{"single"}, "it's"},
		{[]any{"empty"}, ""},
		{[]any{"nulls"}, "~"},
		{[]any{"tagged"}, "123"},
		{[]any{"inference"}, "true"},
	}
	for _, tc := range tests {
		n := get(r, tc.path...)
		if n == nil || n.Kind != Scalar {
			t.Errorf("%v: got %+v, want a scalar", tc.path, n)
			continue
		}
		if n.Value != tc.want {
			t.Errorf("%v = %q, want %q", tc.path, n.Value, tc.want)
		}
	}
	if got := r.Get("nulls").Strings(); got != nil {
		t.Errorf("null Strings() = %q", got)
	}
}

func TestNoFrontMatter(t *testing.T) {
	for _, doc := range []string{"", "# Title\n---\nx: 1\n---\n", "--- not\n"} {
		c, err := Read([]byte(doc), DefaultLimits)
		if c != nil || err != nil {
			t.Errorf("%q: got %+v, %v; want nothing", doc, c, err)
		}
	}
	c, err := Read([]byte("\xef\xbb\xbf---\r\nlicense: mit\r\n---\r\n"), DefaultLimits)
	if err != nil || c == nil || len(c.License) != 1 || c.License[0] != "mit" {
		t.Errorf("BOM and CRLF: %+v, %v", c, err)
	}
	c, err = Read([]byte("---\n---\n"), DefaultLimits)
	if err != nil || c == nil {
		t.Errorf("empty front matter: %+v, %v", c, err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		line      int // 0: not a SyntaxError
		limit     bool
	}{
		{"unterminated_front_matter", "---\nlicense: mit\n", 0, false},
		{"duplicate_key", "---\nlicense: mit\nlicense: apache-2.0\n---\n", 3, false},
		{"unterminated_quote", "---\na: \"abc\nb: c\n---\n", 2, false},
		{"unclosed_flow", "---\ntags: [a, b\n---\n", 2, false},
		{"junk_after_flow", "---\ntags: [a] b\n---\n", 2, false},
		{"tab_indent", "---\na:\n\tb: c\n---\n", 3, false},
		{"not_mapping", "---\n- a\n- b\n---\n", 2, false},
		{"stray_scalar_in_map", "---\na: 1\nb\n---\n", 3, false},
		{"bad_escape", "---\na: \"\\q\"\n---\n", 2, false},
		{"dedent", "---\n  a: 1\nb: 2\n---\n", 3, false},
		{"not_utf8", "---\na: \xff\n---\n", 2, false},
		{"depth", "---\n" + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n---\n", 0, true},
		{"block_depth", "---\n" + nested(80) + "---\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Read([]byte(tc.doc), DefaultLimits)
			if err == nil {
				t.Fatalf("no error; card %+v", c)
			}
			if errors.Is(err, ErrLimit) != tc.limit {
				t.Errorf("errors.Is(ErrLimit) = %v: %v", !tc.limit, err)
			}
			var se *SyntaxError
			if tc.line > 0 && (!errors.As(err, &se) || se.Line != tc.line) {
				t.Errorf("error %v, want a SyntaxError at line %d", err, tc.line)
			}
		})
	}
	_, err := Read([]byte("---\na: 1\n---\n"), Limits{Bytes: 3})
	if !errors.Is(err, ErrLimit) {
		t.Errorf("byte limit: %v", err)
	}
	_, err = Read([]byte("---\na: [1, 2, 3, 4]\n---\n"), Limits{Nodes: 3})
	if !errors.Is(err, ErrLimit) {
		t.Errorf("node limit: %v", err)
	}
}

func nested(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	b.WriteString(strings.Repeat(" ", n) + "v: 1\n")
	return b.String()
}
