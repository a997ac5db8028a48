package diff

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
)

// gitRepo makes a repository in a temporary directory and returns a
// function that runs git in it.
func gitRepo(t *testing.T) (string, func(args ...string)) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com",
			"-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "-q")
	return dir, run
}

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fileScan inventories every file as a component with its digest, in the
// absolute paths a real scan reports.
func fileScan(_ context.Context, dir string) (*inventory.Report, error) {
	var r inventory.Report
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		p = filepath.ToSlash(p)
		r.Components = append(r.Components, inventory.Component{
			ID: "model:" + p, Kind: "model", Name: p,
			Digests: []inventory.Digest{{Algorithm: "sha256", Value: hex.EncodeToString(sum[:])}},
		})
		return nil
	})
	return &r, err
}

func TestGitRevisions(t *testing.T) {
	repo, git := gitRepo(t)
	write(t, repo, "models/a.pt", "one")
	write(t, repo, "models/gone.pt", "gone")
	write(t, repo, "hidden/x.pkl", "hidden")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	write(t, repo, "models/a.pt", "two")
	write(t, repo, "models/b.pt", "new")
	os.Remove(filepath.Join(repo, "models/gone.pt"))
	// export-ignore would hide a file from git archive; the tree read
	// from the object store keeps it.
	write(t, repo, ".gitattributes", "hidden/** export-ignore\n")
	write(t, repo, "hidden/x.pkl", "hidden, changed")
	if err := os.Symlink("/etc/hostname", filepath.Join(repo, "link.pt")); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "second")
	// Uncommitted work is not part of any revision, and is left alone.
	write(t, repo, "models/a.pt", "uncommitted")

	ctx := context.Background()
	opt := Options{Repo: repo, Scan: fileScan}
	old, err := Load(ctx, "git:HEAD~1", opt)
	if err != nil {
		t.Fatal(err)
	}
	nw, err := Load(ctx, "git:main", opt)
	if err != nil {
		t.Fatal(err)
	}
	r := Compare(old.Label, old.Components, nw.Label, nw.Components)
	want := []string{
		"added model model:.gitattributes",
		"added model model:models/b.pt",
		"removed model model:models/gone.pt",
		"changed model model:hidden/x.pkl content",
		"changed model model:models/a.pt content",
	}
	if diff := cmp.Diff(want, briefs(r)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if r.Old != "git:HEAD~1" || r.New != "git:main" {
		t.Errorf("labels %q, %q", r.Old, r.New)
	}
	for _, s := range []*Side{old, nw} {
		d := s.Dir
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: tree %s left behind", s.Label, d)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(repo, "models/a.pt")); string(b) != "uncommitted" {
		t.Errorf("the work tree changed: %q", b)
	}

	for _, rev := range []string{"git:nope", "git:", "git:--output=x", "git:HEAD~5"} {
		if _, err := Load(ctx, rev, opt); !errors.Is(err, ErrRevision) {
			t.Errorf("%s: %v, want ErrRevision", rev, err)
		}
	}
	if _, err := Load(ctx, "git:HEAD", Options{Repo: t.TempDir(), Scan: fileScan}); !errors.Is(err, ErrRevision) {
		t.Errorf("not a repository: %v, want ErrRevision", err)
	}
	opt.MaxTreeBytes = 4
	if _, err := Load(ctx, "git:HEAD", opt); err == nil || !strings.Contains(err.Error(), "more than 4 bytes") {
		t.Errorf("tree over the limit: %v", err)
	}
}

func TestParseLsTree(t *testing.T) {
	in := "100644 blob aaaa\tok.txt\x00" +
		"100755 blob bbbb\tdir/run.sh\x00" +
		"120000 blob cccc\tlink\x00" +
		"160000 commit dddd\tsub\x00" +
		"100644 blob eeee\t../escape\x00" +
		"100644 blob ffff\tx/.GIT/config\x00"
	got, err := parseLsTree([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []treeEntry{{"aaaa", "ok.txt"}, {"bbbb", "dir/run.sh"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(treeEntry{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := parseLsTree([]byte("garbage\x00")); err == nil {
		t.Error("a malformed record was accepted")
	}
}
