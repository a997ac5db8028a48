package lock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Schema names the lock format. A reader refuses any other value: a lock
// it does not understand must not verify as clean.
const Schema = "chainvet/lock/v1"

// Name is the lock's file name in the folder it pins.
const Name = "chainvet.lock"

// MaxLockSize bounds the lock a reader accepts. A lock of a million files
// is about 200 MB; anything larger is not one of ours.
const MaxLockSize = 512 << 20

// A File is a parsed lock: what a tree held when it was locked.
//
// The text form is JSON, written by Marshal: the top-level keys in a fixed
// order, one entry per line in each list, every list sorted, so that a
// change to one artifact is a change to one line. Paths are slash-separated
// and relative to the folder the lock is in; they never name archive
// members (those change only with their archive, which is pinned).
type File struct {
	Schema string `json:"schema"`
	// Options are how the lock was written; verify hashes the same way.
	Options Options `json:"options"`
	// Files are the artifacts pinned by content, sorted by Path.
	Files []Artifact `json:"files"`
	// Folders are the model and dataset folders, each with a root digest
	// over the files it holds, sorted by Path.
	Folders []Folder `json:"folders"`
	// Pins are everything pinned by identity rather than by bytes on disk:
	// packages, hub references, CI actions and includes, container images,
	// agent plugins. Sorted by ID.
	Pins []Pin `json:"pins"`
}

// Options record how a lock was written.
type Options struct {
	// AllFiles: every regular file under the folder is locked, not only
	// model and dataset files.
	AllFiles bool `json:"allFiles,omitempty"`
	// Shards: files of more than one shard carry shard digests.
	Shards bool `json:"shards,omitempty"`
}

// An Artifact is one file pinned by its content.
type Artifact struct {
	Path string `json:"path"`
	// Kind is "model" or "dataset", or "file" for a file locked by
	// --all-files that no cataloger claimed.
	Kind   inventory.Kind `json:"kind"`
	Size   int64          `json:"size"`
	SHA256 string         `json:"sha256"`
	// Shards are the SHA-256 of consecutive ShardSize-byte pieces of the
	// file (the last may be shorter), recorded for files of more than one
	// shard when the lock is written with shards. Verify then hashes the
	// pieces in parallel; every byte is still hashed.
	Shards []string `json:"shards,omitempty"`
	// ID, Name, Version and PURL are the component the scan made of the
	// file, when it made one; a file inside a model folder that no
	// cataloger claimed (a tokenizer, a config) has none.
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	PURL    string `json:"purl,omitempty"`
	// PartOf is the ID of the folder component the file belongs to.
	PartOf string `json:"partOf,omitempty"`
}

// ShardSize is the size of the pieces of Artifact.Shards: 64 MiB, as in
// OpenSSF model signing's shard mode.
const ShardSize = 64 << 20

// A Folder is a model or dataset that is a directory: a Hugging Face
// snapshot, a model repository.
type Folder struct {
	Path    string         `json:"path"`
	Kind    inventory.Kind `json:"kind"`
	ID      string         `json:"id"`
	Name    string         `json:"name,omitempty"`
	Version string         `json:"version,omitempty"`
	PURL    string         `json:"purl,omitempty"`
	// Root is the dirhash "h1:" digest of the folder: the base64 SHA-256 of
	// the lines "<sha256 hex>  <path>\n" of every file under it, paths
	// relative to the folder and sorted, as golang.org/x/mod/sumdb/dirhash
	// Hash1 computes it.
	Root string `json:"root"`
	// Files is the number of files under the folder.
	Files int `json:"files"`
	// Git is the commit checked out when the folder is a git work tree (a
	// model cloned from its hub): read from .git, never by running git.
	Git string `json:"git,omitempty"`
}

// A Pin is a dependency pinned by identity: an exact version, commit or
// digest, with the hashes its lockfile recorded.
type Pin struct {
	ID      string         `json:"id"`
	Kind    inventory.Kind `json:"kind"`
	Name    string         `json:"name"`
	Version string         `json:"version,omitempty"`
	PURL    string         `json:"purl,omitempty"`
	// Source is where it comes from: a package index, a registry, a hub.
	Source string `json:"source,omitempty"`
	// Digests are the hashes the project's own lockfiles recorded (wheel
	// and sdist sha256s, npm integrity), sorted.
	Digests []inventory.Digest `json:"digests,omitempty"`
	// Unpinned marks an item that has no immutable identity, recorded only
	// because the lock was written with --allow-unpinned.
	Unpinned bool `json:"unpinned,omitempty"`
	// Locations are the files that declare it, sorted.
	Locations []string `json:"locations,omitempty"`
}

// Read parses the lock file at p.
func Read(p string) (*File, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if fi.Size() > MaxLockSize {
		return nil, fmt.Errorf("%s: %d bytes: larger than a lock may be (%d)", p, fi.Size(), MaxLockSize)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	lf, err := Parse(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return lf, nil
}

// ErrMalformed reports a lock that is not a valid chainvet lock.
var ErrMalformed = errors.New("lock: malformed")

// Parse reads a lock from its text, its lists sorted. Unknown keys, another schema, paths
// that leave the locked folder, digests that are not lower-case hex SHA-256
// and duplicate entries are errors: a lock is checked before it is trusted.
func Parse(b []byte) (*File, error) {
	if len(b) > MaxLockSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var lf File
	if err := d.Decode(&lf); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if d.More() {
		return nil, fmt.Errorf("%w: trailing data after the lock", ErrMalformed)
	}
	if lf.Schema != Schema {
		return nil, fmt.Errorf("%w: schema %q, want %q", ErrMalformed, lf.Schema, Schema)
	}
	if err := lf.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	lf.Sort()
	return &lf, nil
}

func (lf *File) check() error {
	seen := map[string]bool{}
	for _, a := range lf.Files {
		if err := checkPath(a.Path); err != nil {
			return err
		}
		if seen[a.Path] {
			return fmt.Errorf("file %q listed twice", a.Path)
		}
		seen[a.Path] = true
		if !isHex256(a.SHA256) {
			return fmt.Errorf("file %q: sha256 %q is not 64 lower-case hex digits", a.Path, a.SHA256)
		}
		if a.Size < 0 {
			return fmt.Errorf("file %q: negative size", a.Path)
		}
		if n := len(a.Shards); n > 0 && int64(n) != (a.Size+ShardSize-1)/ShardSize {
			return fmt.Errorf("file %q: %d shards for %d bytes", a.Path, n, a.Size)
		}
		for _, s := range a.Shards {
			if !isHex256(s) {
				return fmt.Errorf("file %q: shard digest %q is not 64 lower-case hex digits", a.Path, s)
			}
		}
	}
	clear(seen)
	for _, f := range lf.Folders {
		if err := checkPath(f.Path); err != nil {
			return err
		}
		if seen[f.Path] {
			return fmt.Errorf("folder %q listed twice", f.Path)
		}
		seen[f.Path] = true
		if !strings.HasPrefix(f.Root, "h1:") {
			return fmt.Errorf("folder %q: root %q is not an h1: digest", f.Path, f.Root)
		}
		if f.Git != "" && commitID(f.Git) == "" {
			return fmt.Errorf("folder %q: git %q is not a full commit id", f.Path, f.Git)
		}
	}
	clear(seen)
	for _, p := range lf.Pins {
		if p.ID == "" {
			return errors.New("pin without an id")
		}
		if seen[p.ID] {
			return fmt.Errorf("pin %q listed twice", p.ID)
		}
		seen[p.ID] = true
	}
	return nil
}

// checkPath accepts a clean, relative, slash-separated path inside the
// locked folder.
func checkPath(p string) error {
	if p == "" || p == "." {
		if p == "." {
			return nil // a folder may be the locked folder itself
		}
		return errors.New("empty path")
	}
	if path.IsAbs(p) || strings.Contains(p, "\\") || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("path %q is not clean and relative to the lock's folder", p)
	}
	return nil
}

func isHex256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Sort puts every list in the order Marshal writes.
func (lf *File) Sort() {
	slices.SortFunc(lf.Files, func(a, b Artifact) int { return strings.Compare(a.Path, b.Path) })
	slices.SortFunc(lf.Folders, func(a, b Folder) int { return strings.Compare(a.Path, b.Path) })
	slices.SortFunc(lf.Pins, func(a, b Pin) int { return strings.Compare(a.ID, b.ID) })
	for i := range lf.Pins {
		slices.SortFunc(lf.Pins[i].Digests, func(a, b inventory.Digest) int {
			return cmpOr(strings.Compare(a.Algorithm, b.Algorithm), strings.Compare(a.Value, b.Value))
		})
		slices.Sort(lf.Pins[i].Locations)
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// Marshal writes the lock in its text form: sorted, one entry a line, a
// final newline. The same lock always gives the same bytes.
func (lf *File) Marshal() []byte {
	c := *lf
	c.Files, c.Folders, c.Pins = slices.Clone(lf.Files), slices.Clone(lf.Folders), slices.Clone(lf.Pins)
	for i := range c.Pins {
		c.Pins[i].Digests = slices.Clone(c.Pins[i].Digests)
		c.Pins[i].Locations = slices.Clone(c.Pins[i].Locations)
	}
	c.Sort()
	var b bytes.Buffer
	b.WriteString("{\n")
	fmt.Fprintf(&b, "  \"schema\": %s,\n", mustJSON(Schema))
	fmt.Fprintf(&b, "  \"options\": %s,\n", mustJSON(c.Options))
	list(&b, "files", c.Files, false)
	list(&b, "folders", c.Folders, false)
	list(&b, "pins", c.Pins, true)
	b.WriteString("}\n")
	return b.Bytes()
}

func list[T any](b *bytes.Buffer, key string, items []T, last bool) {
	fmt.Fprintf(b, "  %q: [", key)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		b.Write(mustJSON(it))
	}
	if len(items) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteByte(']')
	if !last {
		b.WriteByte(',')
	}
	b.WriteByte('\n')
}

// mustJSON encodes values that cannot fail to encode (strings and the
// plain structs above), without escaping <, > and & for HTML.
func mustJSON(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		panic(err) // unreachable: only strings, numbers and bools
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Components returns the lock's entries as the components a scan of the
// locked folder, run from that folder, reports: the same IDs, kinds, names,
// versions, purls and digests. Files the scan did not make components of
// (those inside a model folder) are returned too, with the ID a file
// component of their kind would have and a part-of property naming their
// folder. Unpinned pins carry the property pinned=false.
func (lf *File) Components() []inventory.Component {
	var out []inventory.Component
	for _, a := range lf.Files {
		c := inventory.Component{
			ID: a.ID, Kind: a.Kind, Name: a.Name, Version: a.Version, PURL: a.PURL,
			Digests:   []inventory.Digest{{Algorithm: "sha256", Value: a.SHA256}},
			Locations: []inventory.Location{{Path: a.Path}},
		}
		if c.ID == "" {
			c.ID = inventory.FileComponentID(a.Kind, a.Path)
		}
		if c.Name == "" {
			c.Name = path.Base(a.Path)
		}
		if a.PartOf != "" {
			c.Properties = map[string]string{"part-of": a.PartOf}
		}
		out = append(out, c)
	}
	for _, f := range lf.Folders {
		out = append(out, inventory.Component{
			ID: f.ID, Kind: f.Kind, Name: f.Name, Version: f.Version, PURL: f.PURL,
			Locations:  []inventory.Location{{Path: f.Path}},
			Properties: props("root-digest", f.Root, "git-commit", f.Git),
		})
	}
	for _, p := range lf.Pins {
		c := inventory.Component{
			ID: p.ID, Kind: p.Kind, Name: p.Name, Version: p.Version, PURL: p.PURL,
			Digests:    slices.Clone(p.Digests),
			Properties: map[string]string{"pinned": fmt.Sprint(!p.Unpinned)},
		}
		slices.SortFunc(c.Digests, func(a, b inventory.Digest) int {
			return cmpOr(strings.Compare(a.Algorithm, b.Algorithm), strings.Compare(a.Value, b.Value))
		})
		if p.Source != "" {
			c.Properties["index"] = p.Source
		}
		for _, l := range p.Locations {
			c.Locations = append(c.Locations, inventory.Location{Path: l})
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b inventory.Component) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// props makes properties of the key-value pairs whose value is not empty.
func props(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] != "" {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}
