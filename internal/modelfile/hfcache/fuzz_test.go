package hfcache

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLocate checks that Locate never panics and that what it returns is
// taken from the path.
func FuzzLocate(f *testing.F) {
	f.Add("hub/models--acme--tiny/snapshots/" + commit + "/a/b.json")
	f.Add("models--x/snapshots/" + commit + "/y")
	f.Add("datasets----/snapshots/" + commit + "/z")
	f.Fuzz(func(t *testing.T, p string) {
		r, ok := Locate(p)
		if !ok {
			return
		}
		if !isHex(r.Commit, 40) || r.Repo == "" || r.File == "" {
			t.Fatalf("bad ref %+v from %q", r, p)
		}
		if !strings.HasPrefix(filepath.ToSlash(p), filepath.ToSlash(r.Snapshot)) && !strings.HasPrefix(filepath.ToSlash(filepath.Clean(p)), filepath.ToSlash(r.Snapshot)) {
			t.Fatalf("snapshot %q not a prefix of %q", r.Snapshot, p)
		}
		_ = r.PURL()
	})
}
