package inventory

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fake catalogs files whose head starts with its magic. Containers ("BOX\n"
// followed by names, one a line) hand back a member per name holding the
// rest of the line after a colon.
type fake struct {
	magic string
	act   func(ctx context.Context, f *File, s Sink) error
}

func (c fake) Name() string       { return "fake/" + c.magic }
func (c fake) Wants(f *File) bool { return bytes.HasPrefix(f.Head, []byte(c.magic)) }
func (c fake) Catalog(ctx context.Context, f *File, s Sink) error {
	return c.act(ctx, f, s)
}

func component(f *File, s Sink) {
	s.Component(Component{ID: FileComponentID(KindModel, f.Path), Kind: KindModel, Name: f.Name,
		Properties: map[string]string{"format": strings.TrimSpace(string(f.Head))}})
}

func box(ctx context.Context, f *File, s Sink) error {
	for _, line := range strings.Split(string(f.Head), "\n")[1:] {
		name, body, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		body = strings.ReplaceAll(body, `\n`, "\n")
		m, err := f.Member(name, strings.NewReader(body), int64(len(body)))
		if err != nil {
			return err
		}
		s.Scan(ctx, m)
	}
	return nil
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScan(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a/model.bin", "MODEL")
	write(t, dir, "a/readme.txt", "hello")
	write(t, dir, "box.zip", `BOX
inner.bin:MODEL
deeper.zip:BOX\nx:MODEL
`)
	write(t, dir, ".git/objects/xx", "MODEL")                      // skipped
	write(t, dir, "hub/models--org--name/blobs/0123abcd", "MODEL") // skipped: linked from snapshots
	write(t, dir, "hub/models--org--name/refs/blobs", "MODEL")     // a file named blobs is scanned
	write(t, dir, "panic.bin", "PANIC")
	if err := os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a", "model.bin"), filepath.Join(dir, "link.bin")); err != nil {
		t.Fatal(err)
	}
	cats := []Cataloger{
		fake{"MODEL", func(_ context.Context, f *File, s Sink) error { component(f, s); return nil }},
		fake{"MODEL", func(_ context.Context, f *File, s Sink) error {
			s.Component(Component{ID: FileComponentID(KindModel, f.Path), Properties: map[string]string{"format": "other"}})
			return nil
		}},
		fake{"BOX", box},
		fake{"PANIC", func(context.Context, *File, Sink) error { panic("boom") }},
	}
	r, err := Scan(context.Background(), []string{dir}, Options{Catalogers: cats, MaxDepth: 1, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	rel := func(p string) string { return strings.TrimPrefix(p, dir+string(filepath.Separator)) }
	var comps []string
	for _, c := range r.Components {
		comps = append(comps, rel(strings.TrimPrefix(c.ID, "model:"))+" "+c.Properties["format"])
	}
	want := []string{
		"a/model.bin MODEL,other",
		"box.zip!inner.bin MODEL,other",
		"hub/models--org--name/refs/blobs MODEL,other",
		"link.bin MODEL,other",
	}
	if d := cmp.Diff(want, comps); d != "" {
		t.Errorf("components (-want +got):\n%s", d)
	}
	var finds []string
	for _, f := range r.Findings {
		finds = append(finds, rel(f.Path)+" "+f.Rule)
	}
	wantF := []string{
		"box.zip!deeper.zip!x scan/limit",
		"panic.bin scan/error",
	}
	if d := cmp.Diff(wantF, finds); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	if r.Stats.Files != 6 || r.Stats.Members != 2 {
		t.Errorf("stats = %+v, want 6 files and 2 members", r.Stats)
	}
	if r.Schema != Schema {
		t.Errorf("schema %q", r.Schema)
	}
}

func TestScanTimeout(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "slow.bin", "SLOW")
	slow := fake{"SLOW", func(ctx context.Context, f *File, s Sink) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	r, err := Scan(context.Background(), []string{dir}, Options{Catalogers: []Cataloger{slow}, FileTime: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].Rule != RuleScanLimit || r.Findings[0].Severity != High {
		t.Errorf("findings = %+v, want one high scan/limit", r.Findings)
	}
}

func TestScanUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	dir := t.TempDir()
	p := write(t, dir, "secret.bin", "MODEL")
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	r, err := Scan(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].Rule != RuleScanError {
		t.Errorf("findings = %+v, want scan/error", r.Findings)
	}
}

func TestScanMissingTarget(t *testing.T) {
	_, err := Scan(context.Background(), []string{filepath.Join(t.TempDir(), "nope")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("err = %v, want one naming the missing path", err)
	}
}

func TestFileHeadTailAndCount(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 20000) // 200000 bytes
	var n atomic.Int64
	f, err := NewFile("x", bytes.NewReader(data), int64(len(data)), &n)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Head, data[:HeadSize]) || !bytes.Equal(f.Tail, data[len(data)-TailSize:]) {
		t.Error("head or tail holds the wrong bytes")
	}
	if got := n.Load(); got != HeadSize+TailSize {
		t.Errorf("counted %d bytes read, want %d", got, HeadSize+TailSize)
	}
	small, err := NewFile("y", bytes.NewReader(data[:10]), 10, &n)
	if err != nil {
		t.Fatal(err)
	}
	if !small.Whole() || len(small.Tail) != 0 {
		t.Error("a 10-byte file should be whole in its head")
	}
	buf := make([]byte, 20)
	if k, err := small.ReadAt(buf, 5); k != 5 || err == nil {
		t.Errorf("ReadAt past the end = %d, %v; want 5, EOF", k, err)
	}
	m, err := f.Member("in/side.bin", bytes.NewReader(data[:100]), 100)
	if err != nil {
		t.Fatal(err)
	}
	if m.Path != "x!in/side.bin" || m.Name != "side.bin" || m.Depth != 1 {
		t.Errorf("member = %q %q %d", m.Path, m.Name, m.Depth)
	}
}

func TestSeverityText(t *testing.T) {
	for s := Info; s <= Critical; s++ {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%s does not round-trip: %v %v", s, back, err)
		}
	}
	if _, err := ParseSeverity("CRITICAL"); err != nil {
		t.Error("severity names are case-insensitive")
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("unknown severity accepted")
	}
	if _, err := Severity(9).MarshalText(); err == nil {
		t.Error("out-of-range severity marshalled")
	}
}

func TestMergeProperties(t *testing.T) {
	var m merger
	c := Component{ID: "x", Properties: map[string]string{"version-range": ">=4.44,<5"}}
	for _, o := range []Component{
		{ID: "x", Properties: map[string]string{"version-range": ">=4.44,<5"}},
		{ID: "x", Properties: map[string]string{"version-range": ">=4.50"}},
		{ID: "x", Properties: map[string]string{"version-range": ">=4.50", "index": "a"}},
		{ID: "x", Locations: []Location{{Path: "p"}, {Path: "p"}}, Dependency: Transitive},
		{ID: "x", Dependency: Direct, DependsOn: []string{"y", "y"}},
		{ID: "x", Dependency: Transitive},
	} {
		m.merge(0, &c, o)
	}
	want := Component{ID: "x", Properties: map[string]string{"version-range": ">=4.44,<5,>=4.50", "index": "a"},
		Locations: []Location{{Path: "p"}}, Dependency: Direct, DependsOn: []string{"y"}}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("merged (-want +got):\n%s", d)
	}
}

// TestScanExclude skips what Exclude names below a directory target (a
// directory with all it holds), never the target itself.
func TestScanExclude(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"keep/a.txt", "vendor/x/b.txt", "c.log", "d.txt"} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var asked []string
	exclude := func(rel string, isDir bool) bool {
		asked = append(asked, rel)
		return rel == "vendor" && isDir || strings.HasSuffix(rel, ".log")
	}
	r, err := Scan(context.Background(), []string{dir, filepath.Join(dir, "c.log")}, Options{Exclude: exclude, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	// c.log is excluded below dir but named as a target of its own.
	if r.Stats.Files != 3 {
		t.Errorf("scanned %d files, want 3 (keep/a.txt, d.txt, c.log as a target)", r.Stats.Files)
	}
	if slices.Contains(asked, "vendor/x") || slices.Contains(asked, "vendor/x/b.txt") {
		t.Errorf("walked into an excluded directory: asked %q", asked)
	}
}
