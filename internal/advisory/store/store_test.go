package store

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/advisory/osv"

// buildZip makes an all.zip of the named members.
func buildZip(t testing.TB, members map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range members {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fixtureMembers reads the committed records, keyed by file name.
func fixtureMembers(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtures, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	m := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(p)] = data
	}
	return m
}

func open(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "sub", "advisories.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ids(t *testing.T, s *Store, eco, name string) []string {
	t.Helper()
	recs, err := s.Lookup(context.Background(), eco, name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ eco, in, want string }{
		{"PyPI", "Torch", "torch"},
		{"PyPI", "torchtriton_nightly", "torchtriton-nightly"},
		{"PyPI", "Zope.Interface__x", "zope-interface-x"},
		{"npm", "@Example/Left-Pad", "@example/left-pad"},
		{"Go", "github.com/Foo/Bar", "github.com/Foo/Bar"},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.eco, tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q, %q) = %q, want %q", tt.eco, tt.in, got, tt.want)
		}
	}
}

func TestUpdateAndLookup(t *testing.T) {
	ctx := context.Background()
	members := fixtureMembers(t)
	// An earlier, live copy of the record the fixtures withdraw.
	withdrawn := string(members["GHSA-wdrw-withdrawn.json"])
	live := strings.Replace(withdrawn, `"withdrawn": "2024-07-01T00:00:00Z",`, "", 1)
	live = strings.Replace(live, `"modified": "2024-07-01T00:00:00Z"`, `"modified": "2024-06-01T00:00:00Z"`, 1)
	members["broken.json"] = []byte(`{"id": "X-1"`)
	first := map[string][]byte{"GHSA-wdrw-withdrawn.json": []byte(live), "README.txt": []byte("not a record")}

	zips := map[string][]byte{"/first/all.zip": buildZip(t, first), "/all.zip": buildZip(t, members)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := zips[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	defer srv.Close()

	s := open(t)
	st, err := Update(ctx, s, srv.URL+"/first/all.zip", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Stats{Records: 1, Added: 1}, st); diff != "" {
		t.Errorf("first import stats (-want +got):\n%s", diff)
	}
	if got := ids(t, s, "PyPI", "NumPy"); !cmp.Equal(got, []string{"GHSA-wdrw-2xq9-xxxx"}) {
		t.Errorf("numpy before withdrawal = %v", got)
	}

	st, err = Update(ctx, s, srv.URL+"/all.zip", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Errors) != 1 || !strings.HasPrefix(st.Errors[0], "broken.json: ") {
		t.Errorf("errors = %q", st.Errors)
	}
	st.Errors = nil
	if diff := cmp.Diff(Stats{Records: 9, Added: 7, Withdrawn: 1, Invalid: 1}, st); diff != "" {
		t.Errorf("second import stats (-want +got):\n%s", diff)
	}

	// Importing the same export again changes nothing.
	st, err = Update(ctx, s, srv.URL+"/all.zip", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	st.Errors = nil
	if diff := cmp.Diff(Stats{Records: 9, Unchanged: 7, Withdrawn: 1, Invalid: 1}, st); diff != "" {
		t.Errorf("repeat import stats (-want +got):\n%s", diff)
	}

	lookups := []struct {
		eco, name string
		want      []string
	}{
		{"PyPI", "TORCH", []string{"GHSA-hh2w-p6rv-4g7w", "PYSEC-2022-43015"}},
		{"PyPI", "TorchTriton.Nightly", []string{"MAL-2024-1234"}},
		{"PyPI", "numpy", nil},
		{"npm", "jquery", []string{"GHSA-4w2v-q235-vp99"}},
		{"npm", "@example/left-pad", []string{"GHSA-v4v4-v4v4-v4v4"}},
		{"Go", "golang.org/x/net", []string{"GO-2023-1882"}},
		{"Go", "golang.org/X/net", nil},
		{"npm", "torch", nil},
	}
	for _, l := range lookups {
		if diff := cmp.Diff(l.want, ids(t, s, l.eco, l.name)); diff != "" {
			t.Errorf("Lookup(%s, %s) (-want +got):\n%s", l.eco, l.name, diff)
		}
	}

	status, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status.Advisories != 7 || status.LastImport.IsZero() || len(status.Sources) != 2 {
		t.Errorf("status = %+v", status)
	}
	if diff := cmp.Diff(map[string]int{"PyPI": 4, "npm": 2, "Go": 1}, status.Ecosystems); diff != "" {
		t.Errorf("ecosystems (-want +got):\n%s", diff)
	}
	if status.Sources[0].Name != srv.URL+"/all.zip" || status.Sources[0].Records != 9 {
		t.Errorf("sources = %+v", status.Sources)
	}

	if _, err := Update(ctx, s, srv.URL+"/missing.zip", srv.Client()); err == nil {
		t.Error("Update of a missing export succeeded")
	}
}

func TestImportFileAndLimits(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	dir := t.TempDir()
	big := fmt.Sprintf(`{"id":"X-1","modified":"2024-01-01T00:00:00Z","details":%q}`, strings.Repeat("a", 5<<20))
	name := filepath.Join(dir, "all.zip")
	if err := os.WriteFile(name, buildZip(t, map[string][]byte{"X-1.json": []byte(big)}), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := s.ImportFile(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Invalid != 1 || st.Added != 0 {
		t.Errorf("oversized record: stats %+v", st)
	}
	notZip := filepath.Join(dir, "not.zip")
	os.WriteFile(notZip, []byte("plain text"), 0o644)
	if _, err := s.ImportFile(ctx, notZip); err == nil {
		t.Error("import of a non-zip succeeded")
	}
	if _, err := s.ImportFile(ctx, filepath.Join(dir, "absent.zip")); err == nil {
		t.Error("import of a missing file succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.ImportFile(cancelled, name); err == nil {
		t.Error("cancelled import succeeded")
	}
}

func TestOpenExisting(t *testing.T) {
	if _, err := OpenExisting(filepath.Join(t.TempDir(), "none.db")); err == nil {
		t.Error("OpenExisting of a missing database succeeded")
	}
}

// genZip builds an all.zip of n PyPI records, one package each.
func genZip(b testing.TB, n int) []byte {
	m := make(map[string][]byte, n)
	for i := range n {
		id := fmt.Sprintf("GHSA-gen-%06d", i)
		m[id+".json"] = fmt.Appendf(nil, `{"id":%q,"modified":"2024-01-01T00:00:00Z","aliases":["CVE-2024-%d"],`+
			`"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],`+
			`"affected":[{"package":{"ecosystem":"PyPI","name":"pkg-%d"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.%d.0"}]}],"versions":["1.0.0","1.0.1"]}]}`,
			id, i, i%5000, i)
	}
	return buildZip(b, m)
}

func BenchmarkImport10k(b *testing.B) {
	data := genZip(b, 10_000)
	for b.Loop() {
		s := open(b)
		st, err := s.Import(context.Background(), bytes.NewReader(data), int64(len(data)), "bench")
		if err != nil || st.Added != 10_000 {
			b.Fatal(st, err)
		}
		s.Close()
	}
}

// TestFileHashes indexes the file digests of malicious-package reports at
// import, drops them with a withdrawn record, and backfills them when a
// database written before the index existed is opened.
func TestFileHashes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "advisories.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	data := buildZip(t, fixtureMembers(t))
	if _, err := s.Import(ctx, bytes.NewReader(data), int64(len(data)), "test"); err != nil {
		t.Fatal(err)
	}
	const evil = "689fdd80b3c0aa7ddacb221e1afcce5f1da1405b06bea8c3fe79294bd4cc574c"
	lookup := func(s *Store) []string {
		t.Helper()
		recs, err := s.LookupHash(ctx, "sha256", strings.ToUpper(evil))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.ID)
		}
		return out
	}
	if got := lookup(s); !slices.Equal(got, []string{"MAL-2025-0007"}) {
		t.Errorf("after import: %v", got)
	}
	// An older database: the index empty and the version 0.
	if _, err := s.db.Exec(`DELETE FROM file_hashes; PRAGMA user_version = 0`); err != nil {
		t.Fatal(err)
	}
	if got := lookup(s); len(got) != 0 {
		t.Fatalf("emptied index still answers %v", got)
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	if got := lookup(s); !slices.Equal(got, []string{"MAL-2025-0007"}) {
		t.Errorf("after migration: %v", got)
	}
	// Withdrawn: the record and its digests go.
	withdrawn := `{"id":"MAL-2025-0007","modified":"2026-01-01T00:00:00Z","withdrawn":"2026-01-01T00:00:00Z"}`
	data = buildZip(t, map[string][]byte{"MAL-2025-0007.json": []byte(withdrawn)})
	if _, err := s.Import(ctx, bytes.NewReader(data), int64(len(data)), "test"); err != nil {
		t.Fatal(err)
	}
	if got := lookup(s); len(got) != 0 {
		t.Errorf("after withdrawal: %v", got)
	}
	s.Close()
}
