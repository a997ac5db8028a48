// Package hfcache reads the identity of files in a Hugging Face hub cache:
// which repository and commit a snapshot file belongs to, and the sha256
// the cache names its blob by, without reading the file.
//
// The layout, as huggingface_hub writes it:
//
//	models--org--name/            (datasets--…, spaces--… alike)
//	  refs/main                   the commit "main" resolved to
//	  snapshots/<commit>/<path>   a symbolic link to ../../blobs/<id>
//	  blobs/<id>                  the file's bytes
//
// A blob's id is the file's sha256 for files stored in Git LFS, and the
// git blob id (a sha1 of a header and the bytes) for the others: only a
// 64-hex id is a sha256 of the content.
package hfcache

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/package-url/packageurl-go"
)

// A Ref says where a file sits in a hub cache.
type Ref struct {
	// Type is "model", "dataset" or "space".
	Type string
	// Repo is the repository id, "org/name" or just "name".
	Repo string
	// Commit is the snapshot's folder name: a 40-hex commit id.
	Commit string
	// Cache is the repository's folder (models--org--name).
	Cache string
	// Snapshot is the snapshot folder, Cache/snapshots/Commit.
	Snapshot string
	// File is the file's path within the snapshot, slash-separated.
	File string
}

var typePrefixes = []struct{ prefix, typ string }{
	{"models--", "model"},
	{"datasets--", "dataset"},
	{"spaces--", "space"},
}

// Locate finds the cache layout in path: a models--org--name folder, then
// snapshots, then a 40-hex commit folder, then the file. It only looks at
// the path.
func Locate(path string) (Ref, bool) {
	parts := strings.Split(filepath.ToSlash(path), "/")
	for i := len(parts) - 4; i >= 0; i-- {
		if parts[i+1] != "snapshots" || !isHex(parts[i+2], 40) || parts[len(parts)-1] == "" {
			continue
		}
		for _, tp := range typePrefixes {
			rest, ok := strings.CutPrefix(parts[i], tp.prefix)
			if !ok || rest == "" {
				continue
			}
			repo := rest
			if org, name, ok := strings.Cut(rest, "--"); ok {
				if org == "" || name == "" || strings.Contains(name, "--") {
					return Ref{}, false
				}
				repo = org + "/" + name
			}
			cache := filepath.FromSlash(strings.Join(parts[:i+1], "/"))
			return Ref{
				Type: tp.typ, Repo: repo, Commit: parts[i+2], Cache: cache,
				Snapshot: filepath.Join(cache, "snapshots", parts[i+2]),
				File:     strings.Join(parts[i+3:], "/"),
			}, true
		}
	}
	return Ref{}, false
}

// PURL is the package URL of the repository at the snapshot's commit, for
// models: pkg:huggingface/org/name@commit.
func (r Ref) PURL() string {
	if r.Type != "model" {
		return ""
	}
	ns, name, ok := strings.Cut(r.Repo, "/")
	if !ok {
		ns, name = "", r.Repo
	}
	return packageurl.NewPackageURL(packageurl.TypeHuggingface, ns, name, r.Commit, nil, "").ToString()
}

// maxRef is the most bytes of a refs/ file read: a commit id and a newline.
const maxRef = 128

// ReadRef returns the commit refs/<name> of the cache names.
func (r Ref) ReadRef(name string) (string, error) {
	if strings.Contains(name, "..") {
		return "", fmt.Errorf("hfcache: bad ref name %q", name)
	}
	f, err := os.Open(filepath.Join(r.Cache, "refs", filepath.FromSlash(name)))
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRef+1))
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if len(b) > maxRef || !isHex(s, 40) {
		return "", fmt.Errorf("hfcache: refs/%s does not hold a commit id", name)
	}
	return s, nil
}

// ErrNotLink says a snapshot file is not a link into blobs/: copied
// caches (on file systems without links) carry no blob ids.
var ErrNotLink = errors.New("hfcache: not a link to a blob")

// A Blob is the cache's name for a snapshot file's bytes.
type Blob struct {
	// ID is the blob's file name.
	ID string
	// SHA256 is the file's sha256 when ID is one (an LFS file), else "".
	SHA256 string
}

// BlobOf reads the link at path, a file in a snapshot, and returns the
// blob it points to. It reads no file content.
func BlobOf(path string) (Blob, error) {
	target, err := os.Readlink(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && !errors.Is(err, os.ErrNotExist) {
			return Blob{}, ErrNotLink
		}
		return Blob{}, err
	}
	t := filepath.ToSlash(target)
	dir, id := filepath.ToSlash(filepath.Dir(t)), filepath.Base(t)
	if filepath.Base(dir) != "blobs" {
		return Blob{}, fmt.Errorf("%w: %s points to %s", ErrNotLink, path, target)
	}
	b := Blob{ID: id}
	if isHex(id, 64) {
		b.SHA256 = id
	}
	return b, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// A Local is what huggingface_hub records beside a file it downloaded into
// a plain folder (hf_hub_download(local_dir=...)): in
// <root>/.cache/huggingface/download/<path>.metadata, the commit, the
// file's etag and a timestamp, one a line. The etag of an LFS file is its
// sha256.
type Local struct {
	// Root is the folder the download went to.
	Root   string
	Commit string
	// SHA256 is the file's sha256 when the etag is one, else "".
	SHA256 string
}

// maxLocalDepth is how many folders above a file LocalOf looks for the
// download root: repositories nest their files a few folders deep at most.
const maxLocalDepth = MaxLocalDepth

// MaxLocalDepth is maxLocalDepth, for callers that cache what they know of
// the folders above a file.
const MaxLocalDepth = 4

// maxMetadata bounds the metadata file read: three short lines.
const maxMetadata = 1024

// LocalOf finds the download metadata of the file at path, looking in its
// folder and up to maxLocalDepth folders above.
func LocalOf(path string) (Local, bool) {
	dir, rel := filepath.Dir(path), filepath.Base(path)
	for range maxLocalDepth + 1 {
		meta := filepath.Join(dir, ".cache", "huggingface", "download", rel+".metadata")
		if l, ok := readLocal(meta); ok {
			l.Root = dir
			return l, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		rel = filepath.Join(filepath.Base(dir), rel)
		dir = parent
	}
	return Local{}, false
}

func readLocal(meta string) (Local, bool) {
	f, err := os.Open(meta)
	if err != nil {
		return Local{}, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMetadata))
	if err != nil {
		return Local{}, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 2 || !isHex(strings.TrimSpace(lines[0]), 40) {
		return Local{}, false
	}
	l := Local{Commit: strings.TrimSpace(lines[0])}
	if etag := strings.Trim(strings.TrimSpace(lines[1]), `"`); isHex(etag, 64) {
		l.SHA256 = etag
	}
	return l, true
}
