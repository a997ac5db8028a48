package hfcache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

func TestLocate(t *testing.T) {
	tests := []struct {
		name, path string
		want       Ref
		ok         bool
	}{
		{"model", "/c/hub/models--acme--tiny-llm/snapshots/" + commit + "/config.json",
			Ref{Type: "model", Repo: "acme/tiny-llm", Commit: commit, Cache: "/c/hub/models--acme--tiny-llm",
				Snapshot: "/c/hub/models--acme--tiny-llm/snapshots/" + commit, File: "config.json"}, true},
		{"no_org_subfolder", "hub/models--gpt2/snapshots/" + commit + "/onnx/model.onnx",
			Ref{Type: "model", Repo: "gpt2", Commit: commit, Cache: "hub/models--gpt2",
				Snapshot: "hub/models--gpt2/snapshots/" + commit, File: "onnx/model.onnx"}, true},
		{"dataset", "datasets--acme--d/snapshots/" + commit + "/a.parquet",
			Ref{Type: "dataset", Repo: "acme/d", Commit: commit, Cache: "datasets--acme--d",
				Snapshot: "datasets--acme--d/snapshots/" + commit, File: "a.parquet"}, true},
		{"short_commit", "models--a--b/snapshots/0123/config.json", Ref{}, false},
		{"not_snapshots", "models--a--b/blobs/" + commit, Ref{}, false},
		{"no_prefix", "acme--b/snapshots/" + commit + "/x", Ref{}, false},
		{"triple_dash", "models--a--b--c/snapshots/" + commit + "/x", Ref{}, false},
		{"snapshot_folder_itself", "models--a--b/snapshots/" + commit, Ref{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Locate(filepath.FromSlash(tc.path))
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			tc.want.Cache, tc.want.Snapshot = filepath.FromSlash(tc.want.Cache), filepath.FromSlash(tc.want.Snapshot)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Locate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPURL(t *testing.T) {
	tests := []struct {
		ref  Ref
		want string
	}{
		{Ref{Type: "model", Repo: "acme/tiny-llm", Commit: commit}, "pkg:huggingface/acme/tiny-llm@" + commit},
		{Ref{Type: "model", Repo: "gpt2", Commit: commit}, "pkg:huggingface/gpt2@" + commit},
		{Ref{Type: "dataset", Repo: "acme/d", Commit: commit}, ""},
	}
	for _, tc := range tests {
		if got := tc.ref.PURL(); got != tc.want {
			t.Errorf("PURL(%+v) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

// cache builds models--acme--m with one LFS and one plain file.
func cache(t *testing.T) (snap string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "models--acme--m")
	snap = filepath.Join(root, "snapshots", commit)
	sha := strings.Repeat("ab", 32)
	sha1 := strings.Repeat("cd", 20)
	for _, d := range []string{snap, filepath.Join(root, "blobs"), filepath.Join(root, "refs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "blobs", sha), "weights")
	write(filepath.Join(root, "blobs", sha1), "{}")
	write(filepath.Join(root, "refs", "main"), commit+"\n")
	write(filepath.Join(snap, "copied.json"), "{}")
	if err := os.Symlink(filepath.Join("..", "..", "blobs", sha), filepath.Join(snap, "model.safetensors")); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "blobs", sha1), filepath.Join(snap, "config.json")); err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestBlobOf(t *testing.T) {
	snap := cache(t)
	b, err := BlobOf(filepath.Join(snap, "model.safetensors"))
	if err != nil || b.SHA256 != strings.Repeat("ab", 32) {
		t.Errorf("LFS file: %+v, %v", b, err)
	}
	b, err = BlobOf(filepath.Join(snap, "config.json"))
	if err != nil || b.SHA256 != "" || b.ID != strings.Repeat("cd", 20) {
		t.Errorf("git file: %+v, %v; want its id and no sha256", b, err)
	}
	if _, err := BlobOf(filepath.Join(snap, "copied.json")); err != ErrNotLink {
		t.Errorf("copied file: %v, want ErrNotLink", err)
	}
	ref, ok := Locate(filepath.Join(snap, "config.json"))
	if !ok {
		t.Fatal("Locate failed")
	}
	if got, err := ref.ReadRef("main"); err != nil || got != commit {
		t.Errorf("ReadRef = %q, %v", got, err)
	}
	if _, err := ref.ReadRef("../x"); err == nil {
		t.Error("ReadRef accepted a name climbing out of refs/")
	}
}

func TestLocalOf(t *testing.T) {
	root := t.TempDir()
	sha := strings.Repeat("ef", 32)
	meta := filepath.Join(root, ".cache", "huggingface", "download", "sub")
	if err := os.MkdirAll(meta, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(meta, "model.safetensors.metadata"), []byte(commit+"\n"+sha+"\n1712345678.9\n"), 0o644)
	os.WriteFile(filepath.Join(meta, "config.json.metadata"), []byte(commit+"\n"+strings.Repeat("12", 20)+"\n1712345678.9\n"), 0o644)
	os.WriteFile(filepath.Join(meta, "bad.json.metadata"), []byte("main\nx\n"), 0o644)

	got, ok := LocalOf(filepath.Join(root, "sub", "model.safetensors"))
	if want := (Local{Root: root, Commit: commit, SHA256: sha}); !ok || got != want {
		t.Errorf("LFS file: %+v %v, want %+v", got, ok, want)
	}
	got, ok = LocalOf(filepath.Join(root, "sub", "config.json"))
	if !ok || got.SHA256 != "" || got.Commit != commit {
		t.Errorf("git file: %+v %v", got, ok)
	}
	if _, ok := LocalOf(filepath.Join(root, "sub", "bad.json")); ok {
		t.Error("metadata without a commit accepted")
	}
	if _, ok := LocalOf(filepath.Join(root, "sub", "none.bin")); ok {
		t.Error("file without metadata found")
	}
}
