package lock

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGitRevision(t *testing.T) {
	c1, c2 := strings.Repeat("1", 40), strings.Repeat("2", 40)
	tests := []struct {
		name  string
		files map[string]string // under the work tree
		want  string
	}{
		{"loose_ref", map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/refs/heads/main": c1 + "\n"}, c1},
		{"packed_ref", map[string]string{".git/HEAD": "ref: refs/heads/main\n",
			".git/packed-refs": "# pack-refs with: peeled fully-peeled sorted\n" + c2 + " refs/heads/dev\n" + c1 + " refs/heads/main\n"}, c1},
		{"loose_wins", map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/refs/heads/main": c2,
			".git/packed-refs": c1 + " refs/heads/main\n"}, c2},
		{"detached", map[string]string{".git/HEAD": c2 + "\n"}, c2},
		{"sha256_repo", map[string]string{".git/HEAD": strings.Repeat("a", 64)}, strings.Repeat("a", 64)},
		{"gitdir_file", map[string]string{".git": "gitdir: ../real.git\n", "../real.git/HEAD": c1}, c1},
		{"unborn_branch", map[string]string{".git/HEAD": "ref: refs/heads/main\n"}, ""},
		{"escaping_ref", map[string]string{".git/HEAD": "ref: refs/../../secret\n", "secret": c1}, ""},
		{"short_id", map[string]string{".git/HEAD": c1[:12]}, ""},
		{"not_a_repo", map[string]string{"config.json": "{}"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "model")
			os.MkdirAll(dir, 0o755)
			for name, body := range tc.files {
				p := filepath.Join(dir, filepath.FromSlash(name))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := gitRevision(dir); got != tc.want {
				t.Errorf("gitRevision = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompareGit(t *testing.T) {
	c1, c2 := strings.Repeat("1", 40), strings.Repeat("2", 40)
	lf := &File{Folders: []Folder{{Path: "m", Kind: "model", ID: "model:m", Name: "m", Root: "h1:x", Git: c1}}}
	now := &File{Folders: []Folder{{Path: "m", Kind: "model", ID: "model:m", Name: "m", Root: "h1:x", Git: c2}}}
	ds := Compare(lf, now, Filter{})
	if len(ds) != 1 || ds[0].Rule != RuleRevision || ds[0].Expected != "git "+c1 || ds[0].Found != "git "+c2 {
		t.Errorf("a moved HEAD: %+v", ds)
	}
}

func FuzzGitRevision(f *testing.F) {
	f.Add([]byte("ref: refs/heads/main\n"), []byte(strings.Repeat("1", 40)+" refs/heads/main\n"))
	f.Add([]byte(strings.Repeat("a", 64)), []byte(""))
	f.Add([]byte("ref: refs/../../x"), []byte("# pack-refs\n^"+strings.Repeat("2", 40)))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, head, packed []byte) {
		os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
		os.WriteFile(filepath.Join(dir, ".git", "HEAD"), head, 0o644)
		os.WriteFile(filepath.Join(dir, ".git", "packed-refs"), packed, 0o644)
		if got := gitRevision(dir); got != "" && commitID(got) != got {
			t.Fatalf("gitRevision returned %q, not a commit id", got)
		}
	})
}
