package pkgcode

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNodeTargets(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   []string
	}{
		{"node install.js", []string{"install.js"}},
		{"node ./scripts/postinstall", []string{"./scripts/postinstall.js"}},
		{"node --no-warnings --max-old-space-size=4096 lib/setup.cjs && echo ok", []string{"lib/setup.cjs"}},
		{"npm run build; node dist/post.mjs", []string{"dist/post.mjs"}},
		{"node -e \"require('x')\"", nil},
		{"node-gyp rebuild", nil},
		{"echo node is great", nil},
		{"node scripts/run.sh", nil},
	} {
		if got := nodeTargets(tc.script); !cmp.Equal(got, tc.want) {
			t.Errorf("nodeTargets(%q) = %q, want %q", tc.script, got, tc.want)
		}
	}
}

// TestReadTarget keeps target files inside the package: no "..", no
// absolute path, no symbolic link out, nothing inside an archive.
func TestReadTarget(t *testing.T) {
	root := t.TempDir()
	pkg := filepath.Join(root, "pkg")
	if err := os.MkdirAll(filepath.Join(pkg, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(pkg, "lib", "ok.js"), []byte("console.log(1)\n"), 0o644)
	os.WriteFile(filepath.Join(root, "secret.js"), []byte("outside\n"), 0o644)
	if err := os.Symlink(filepath.Join(root, "secret.js"), filepath.Join(pkg, "link.js")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	manifest := filepath.Join(pkg, "package.json")
	for _, tc := range []struct {
		rel string
		ok  bool
	}{
		{"lib/ok.js", true},
		{"./lib/ok.js", true},
		{"../secret.js", false},
		{filepath.Join(root, "secret.js"), false},
		{"link.js", false},
		{"missing.js", false},
	} {
		_, _, err := readTarget(manifest, tc.rel)
		if (err == nil) != tc.ok {
			t.Errorf("readTarget(%q): err %v, want ok=%v", tc.rel, err, tc.ok)
		}
	}
	if _, _, err := readTarget("a.tgz!package/package.json", "install.js"); err == nil {
		t.Error("readTarget inside an archive succeeded")
	}
}
