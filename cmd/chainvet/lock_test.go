package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/lock"
)

const (
	lockCommit1 = "1111111111111111111111111111111111111111"
	lockCommit2 = "2222222222222222222222222222222222222222"
	lockAction  = "11bd71901bbe5b1630ceea73d27597364c9af683"
)

// lockCLI runs one chainvet command line with lock and verify registered, and
// returns its exit code and output.
func lockCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	if c, _, err := root.Find([]string{"verify"}); err != nil || c == root {
		root.AddCommand(newLock(&out, &errb), newVerify(&out, &errb))
	}
	root.SetArgs(args)
	code := 0
	switch err := root.ExecuteContext(context.Background()); {
	case errors.Is(err, errFailOn):
		code = 1
	case err != nil:
		fmt.Fprintln(&errb, "chainvet: error:", err)
		var h hinted
		if errors.As(err, &h) {
			fmt.Fprintln(&errb, "chainvet: fix:", h.hint)
		}
		code = 2
	}
	return code, out.String(), errb.String()
}

// lockSafetensors writes a valid safetensors file of one U8 tensor of n bytes.
func lockSafetensors(t *testing.T, p string, n int, fill byte) {
	t.Helper()
	h := fmt.Sprintf(`{"w":{"dtype":"U8","shape":[%d],"data_offsets":[0,%d]}}`, n, n)
	h += strings.Repeat(" ", (8-len(h)%8)%8)
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	b = append(append(b, h...), bytes.Repeat([]byte{fill}, n)...)
	lockWrite(t, p, string(b))
}

func lockWrite(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lockProject makes a small AI project: a sharded model folder, code that
// loads a hub model at a commit, a hashed requirement and a CI action.
func lockProject(t *testing.T) string {
	dir := t.TempDir()
	lockSafetensors(t, filepath.Join(dir, "models/bert/model-00001-of-00002.safetensors"), 1000, 1)
	lockSafetensors(t, filepath.Join(dir, "models/bert/model-00002-of-00002.safetensors"), 1200, 2)
	lockWrite(t, filepath.Join(dir, "models/bert/config.json"), `{"architectures":["BertModel"],"model_type":"bert"}`)
	lockWrite(t, filepath.Join(dir, "models/bert/tokenizer.json"), `{"version":"1.0"}`)
	lockWrite(t, filepath.Join(dir, "app.py"), "from transformers import AutoModel\nm = AutoModel.from_pretrained(\"org/bert\", revision=\""+lockCommit1+"\")\n")
	lockWrite(t, filepath.Join(dir, "requirements.txt"), "torch==2.5.1 --hash=sha256:"+strings.Repeat("a", 64)+"\n")
	lockWrite(t, filepath.Join(dir, ".github/workflows/ci.yml"), "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@"+lockAction+"\n")
	return dir
}

// lockFindings runs verify -o json and returns its exit code and "rule path"
// of each finding.
func lockFindings(t *testing.T, args ...string) (int, []string) {
	t.Helper()
	code, out, errs := lockCLI(t, append([]string{"verify", "-o", "json"}, args...)...)
	if code == 2 {
		t.Fatalf("verify: exit 2: %s", errs)
	}
	var rep inventory.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("verify -o json: %v\n%s", err, out)
	}
	var got []string
	for _, f := range rep.Findings {
		if !strings.Contains(f.Remediation, "chainvet lock --update") {
			t.Errorf("%s: remediation %q does not say how to accept", f.Rule, f.Remediation)
		}
		got = append(got, f.Rule+" "+filepath.ToSlash(strings.TrimPrefix(f.Path, args[len(args)-1]+string(filepath.Separator))))
	}
	return code, got
}

func lockFlip(t *testing.T, p string, off int64) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x01
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestLockVerifyTamper(t *testing.T) {
	const shard1 = "models/bert/model-00001-of-00002.safetensors"
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   []string
	}{
		{"untouched", func(*testing.T, string) {}, nil},
		{"flipped_byte", func(t *testing.T, dir string) { lockFlip(t, filepath.Join(dir, shard1), 500) },
			[]string{"lock/changed " + shard1, "lock/folder-changed models/bert"}},
		{"renamed_shard", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, shard1), filepath.Join(dir, "models/bert/model-00003-of-00003.safetensors"))
		}, []string{"lock/renamed models/bert/model-00003-of-00003.safetensors", "lock/folder-changed models/bert"}},
		{"tokenizer_changed", func(t *testing.T, dir string) {
			lockWrite(t, filepath.Join(dir, "models/bert/tokenizer.json"), `{"version":"1.1"}`)
		}, []string{"lock/changed models/bert/tokenizer.json", "lock/folder-changed models/bert"}},
		{"shard_missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, shard1)) },
			[]string{"lock/missing " + shard1, "lock/folder-changed models/bert"}},
		{"model_added", func(t *testing.T, dir string) { lockSafetensors(t, filepath.Join(dir, "extra/x.safetensors"), 8, 9) },
			[]string{"lock/added extra/x.safetensors"}},
		{"swapped_revision", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "app.py"))
			lockWrite(t, filepath.Join(dir, "app.py"), strings.ReplaceAll(string(b), lockCommit1, lockCommit2))
		}, []string{"lock/revision-changed chainvet.lock"}},
		{"package_hash", func(t *testing.T, dir string) {
			lockWrite(t, filepath.Join(dir, "requirements.txt"), "torch==2.5.1 --hash=sha256:"+strings.Repeat("b", 64)+"\n")
		}, []string{"lock/package-hash-changed chainvet.lock"}},
		{"action_on_tag", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, ".github/workflows/ci.yml"))
			lockWrite(t, filepath.Join(dir, ".github/workflows/ci.yml"), strings.ReplaceAll(string(b), lockAction, "v4"))
		}, []string{"lock/revision-changed chainvet.lock"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := lockProject(t)
			if code, _, errs := lockCLI(t, "lock", dir); code != 0 {
				t.Fatalf("lock: exit %d: %s", code, errs)
			}
			tc.tamper(t, dir)
			code, got := lockFindings(t, dir)
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings %q, want %q", got, tc.want)
			}
			if want := min(len(tc.want), 1); code != want {
				t.Errorf("exit %d, want %d", code, want)
			}
		})
	}
}

func TestVerifyTable(t *testing.T) {
	dir := lockProject(t)
	lockCLI(t, "lock", dir)
	if code, out, _ := lockCLI(t, "verify", dir); code != 0 || !strings.Contains(out, "nothing changed") {
		t.Errorf("clean verify: exit %d, %q", code, out)
	}
	lockFlip(t, filepath.Join(dir, "models/bert/model-00002-of-00002.safetensors"), 100)
	code, out, errs := lockCLI(t, "verify", dir)
	for _, want := range []string{"WHAT", "TO ACCEPT", "models/bert/model-00002-of-00002.safetensors", "changed",
		"chainvet lock --update --lockfile " + filepath.Join(dir, lock.Name) + " " + filepath.Join(dir, "models/bert/model-00002-of-00002.safetensors")} {
		if !strings.Contains(out, want) {
			t.Errorf("table does not say %q:\n%s", want, out)
		}
	}
	if code != 1 || !strings.Contains(errs, "2 difference(s)") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	// Restricted to other kinds or paths, nothing differs.
	if code, _ := lockFindings(t, "--kind", "package", dir); code != 0 {
		t.Errorf("--kind package: exit %d", code)
	}
	if code, got := lockFindings(t, "--path", "models/bert/*-00002-*", dir); code != 1 || len(got) != 1 {
		t.Errorf("--path: exit %d, %q", code, got)
	}
	if code, _, errs := lockCLI(t, "verify", "--kind", "weights", dir); code != 2 || !strings.Contains(errs, "unknown kind") {
		t.Errorf("--kind weights: exit %d, %s", code, errs)
	}
	code, out, _ = lockCLI(t, "verify", "-o", "sarif", dir)
	if code != 1 || !strings.Contains(out, `"lock/changed"`) {
		t.Errorf("sarif: exit %d\n%s", code, out)
	}
}

func TestLockBigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 100 MB model")
	}
	for _, shards := range []bool{false, true} {
		t.Run(fmt.Sprint("shards=", shards), func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "big.safetensors")
			lockSafetensors(t, p, 100<<20, 7)
			args := []string{"lock", dir}
			if shards {
				args = append(args, "--shards")
			}
			if code, _, errs := lockCLI(t, args...); code != 0 {
				t.Fatal(errs)
			}
			lf, err := lock.Read(filepath.Join(dir, lock.Name))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(lf.Files[0].Shards); got != map[bool]int{false: 0, true: 2}[shards] {
				t.Errorf("%d shards recorded", got)
			}
			if code, got := lockFindings(t, dir); code != 0 {
				t.Fatalf("untouched: %q", got)
			}
			lockFlip(t, p, 80<<20) // in the second shard
			if code, got := lockFindings(t, dir); code != 1 || !slices.Equal(got, []string{"lock/changed big.safetensors"}) {
				t.Errorf("flipped byte: exit %d, %q", code, got)
			}
		})
	}
}

func TestLockUnpinned(t *testing.T) {
	dir := lockProject(t)
	lockWrite(t, filepath.Join(dir, ".github/workflows/release.yml"), "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/setup-python@v5\n")
	lockWrite(t, filepath.Join(dir, "Dockerfile"), "FROM python:3.12-slim\n")
	code, _, errs := lockCLI(t, "lock", dir)
	for _, want := range []string{"unpinned: pkg:github/actions/setup-python@v5", "uses: actions/setup-python@<40-hex sha>",
		"unpinned: pkg:docker/python@3.12-slim", "NAME@sha256:", "2 item(s) cannot be pinned", "--allow-unpinned"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, lock.Name)); code != 2 || err == nil {
		t.Errorf("exit %d, lock written: %v", code, err == nil)
	}
	if code, _, errs := lockCLI(t, "lock", "--allow-unpinned", dir); code != 0 || !strings.Contains(errs, "2 unpinned") {
		t.Fatalf("--allow-unpinned: exit %d: %s", code, errs)
	}
	lf, err := lock.Read(filepath.Join(dir, lock.Name))
	if err != nil {
		t.Fatal(err)
	}
	var unpinned []string
	for _, p := range lf.Pins {
		if p.Unpinned {
			unpinned = append(unpinned, p.ID)
		}
	}
	if want := []string{"pkg:docker/python@3.12-slim", "pkg:github/actions/setup-python@v5"}; !slices.Equal(unpinned, want) {
		t.Errorf("unpinned %q, want %q", unpinned, want)
	}
}

func TestLockUpdate(t *testing.T) {
	dir := lockProject(t)
	lockCLI(t, "lock", dir)
	lockFlip(t, filepath.Join(dir, "models/bert/model-00001-of-00002.safetensors"), 100)
	lockWrite(t, filepath.Join(dir, "requirements.txt"), "torch==2.5.1 --hash=sha256:"+strings.Repeat("b", 64)+"\n")
	lockfile := filepath.Join(dir, lock.Name)
	if code, _, errs := lockCLI(t, "lock", "--update", "--lockfile", lockfile, filepath.Join(dir, "models/bert")); code != 0 {
		t.Fatal(errs)
	}
	if _, got := lockFindings(t, dir); !slices.Equal(got, []string{"lock/package-hash-changed chainvet.lock"}) {
		t.Errorf("after updating the model: %q", got)
	}
	if code, _, errs := lockCLI(t, "lock", "--update", "--lockfile", lockfile, "pkg:pypi/torch"); code != 0 {
		t.Fatal(errs)
	}
	if code, got := lockFindings(t, dir); code != 0 {
		t.Errorf("after updating the package: %q", got)
	}
	if code, _, errs := lockCLI(t, "lock", "--update"); code != 2 || !strings.Contains(errs, "needs the paths") {
		t.Errorf("--update alone: exit %d: %s", code, errs)
	}
}

func TestLockAllFiles(t *testing.T) {
	dir := lockProject(t)
	if code, _, errs := lockCLI(t, "lock", "--all-files", dir); code != 0 {
		t.Fatal(errs)
	}
	lf, err := lock.Read(filepath.Join(dir, lock.Name))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, a := range lf.Files {
		paths = append(paths, a.Path)
	}
	if !slices.Contains(paths, "app.py") || slices.Contains(paths, lock.Name) || !lf.Options.AllFiles {
		t.Errorf("--all-files locked %q", paths)
	}
	if code, got := lockFindings(t, dir); code != 0 {
		t.Errorf("the lock drifted from itself: %q", got)
	}
	lockWrite(t, filepath.Join(dir, "README.md"), "new")
	if _, got := lockFindings(t, dir); !slices.Equal(got, []string{"lock/added README.md"}) {
		t.Errorf("a new file: %q", got)
	}
}

func TestVerifyErrors(t *testing.T) {
	dir := lockProject(t)
	if code, _, errs := lockCLI(t, "verify", dir); code != 2 || !strings.Contains(errs, "run chainvet lock") {
		t.Errorf("no lock: exit %d: %s", code, errs)
	}
	lockWrite(t, filepath.Join(dir, lock.Name), `{"schema":"chainvet/lock/v9"}`)
	if code, _, errs := lockCLI(t, "verify", dir); code != 2 || !strings.Contains(errs, "schema") {
		t.Errorf("foreign lock: exit %d: %s", code, errs)
	}
	if code, _, errs := lockCLI(t, "lock", filepath.Join(dir, "app.py")); code != 2 || !strings.Contains(errs, "not a folder") {
		t.Errorf("lock of a file: exit %d: %s", code, errs)
	}
}

func TestVerifyCache(t *testing.T) {
	dir := lockProject(t)
	lockCLI(t, "lock", dir)
	t.Setenv("CI", "true")
	if code, _, errs := lockCLI(t, "verify", "--cache", dir); code != 2 || !strings.Contains(errs, "refused in CI") {
		t.Errorf("--cache in CI: exit %d: %s", code, errs)
	}
	t.Setenv("CI", "")
	if code, _, errs := lockCLI(t, "verify", "--cache", dir); code != 0 || !strings.Contains(errs, "taken from the cache") {
		t.Errorf("--cache: exit %d: %s", code, errs)
	}
}

func TestVerifyGitRevision(t *testing.T) {
	dir := lockProject(t)
	// models/bert is a clone of its hub repository, at lockCommit1.
	lockWrite(t, filepath.Join(dir, "models/bert/.git/HEAD"), "ref: refs/heads/main\n")
	lockWrite(t, filepath.Join(dir, "models/bert/.git/refs/heads/main"), lockCommit1+"\n")
	if code, _, errs := lockCLI(t, "lock", dir); code != 0 {
		t.Fatal(errs)
	}
	lf, err := lock.Read(filepath.Join(dir, lock.Name))
	if err != nil || len(lf.Folders) != 1 || lf.Folders[0].Git != lockCommit1 {
		t.Fatalf("folders %+v, %v", lf.Folders, err)
	}
	if code, got := lockFindings(t, dir); code != 0 {
		t.Errorf("untouched: %q", got)
	}
	// A pull moves HEAD; the files it brought are their own findings.
	lockWrite(t, filepath.Join(dir, "models/bert/.git/refs/heads/main"), lockCommit2+"\n")
	if code, got := lockFindings(t, dir); code != 1 || !slices.Equal(got, []string{"lock/revision-changed models/bert"}) {
		t.Errorf("moved HEAD: exit %d, %q", code, got)
	}
}

func TestHashProgress(t *testing.T) {
	var b bytes.Buffer
	p := &hashProgress{w: &b, start: time.Now().Add(-time.Second)}
	p.update(2e9, 8e9)
	p.update(3e9, 8e9) // within 100ms of the last: not drawn
	p.update(8e9, 8e9) // the end is always drawn
	p.clear()
	out := b.String()
	for _, want := range []string{"hashed 2.0 GB of 8.0 GB, ", "GB/s, ", " left", "hashed 8.0 GB of 8.0 GB", "\r\x1b[K"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress %q does not say %q", out, want)
		}
	}
	if strings.Contains(out, "3.0 GB of") {
		t.Errorf("progress redrawn within 100ms: %q", out)
	}
	if !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("progress not erased: %q", out)
	}
}

func TestLockDeterministic(t *testing.T) {
	dir := lockProject(t)
	other := filepath.Join(t.TempDir(), "other.lock")
	for _, args := range [][]string{{"lock", dir}, {"lock", "--lockfile", other, dir}} {
		if code, _, errs := lockCLI(t, args...); code != 0 {
			t.Fatal(errs)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, lock.Name))
	b, _ := os.ReadFile(other)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("two locks of one tree differ:\n%s\n%s", a, b)
	}
	// Locking again with the lock in the tree changes nothing.
	lockCLI(t, "lock", dir)
	if c, _ := os.ReadFile(filepath.Join(dir, lock.Name)); !bytes.Equal(a, c) {
		t.Errorf("the lock pinned itself:\n%s", c)
	}
}
