// Package modelsig signs and verifies machine-learning models in the OpenSSF
// model signing format (sigstore/model-transparency, predicate v1.0): an
// in-toto statement listing the digest of every file, or every file shard,
// of a model, signed into a Sigstore bundle by package attest.
//
// # Manifest
//
// A model is a directory (or one file). Serialization by "files" records one
// resource per regular file, named by its slash-separated path relative to
// the model directory ("." when the model is a single file), with the
// digest of its content. Serialization by "shards" records one resource per
// shard_size piece of every non-empty file, named "path:start:end" (end
// exclusive); empty files have no shards. Digests are SHA-256 (hash_type
// "sha256") or BLAKE2b-512 ("blake2b"); a shard's algorithm is written
// "<hash_type>-sharded-<shard_size>".
//
// Resources are sorted as the reference sorts paths: by path components,
// so "a/b" < "a-b" < "a.txt", then, for shards, by start and end offsets.
// The statement's single subject is named after the model directory and
// carries the root digest: SHA-256 over the concatenated raw digests of the
// resources, in that order.
//
// Paths under ignore_paths (components-wise prefixes, relative to the model)
// are not hashed: by default .git, .gitattributes, .github, .gitignore and
// the signature file itself. Symbolic links make hashing fail unless
// allowed; when allowed, a link to a regular file is hashed as that file.
package modelsig

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Names this format uses on the wire.
const (
	// StatementType is the in-toto statement type.
	StatementType = "https://in-toto.io/Statement/v1"
	// PredicateType is the model signing predicate, v1.0.
	PredicateType = "https://model_signing/signature/v1.0"
	// predicateTypeV02 is the predicate model_signing v0.2 wrote: one
	// subject per file and no serialization record.
	predicateTypeV02 = "https://model_signing/Digests/v0.1"
	// v02ModelName stands for the model name v0.2 statements lack.
	v02ModelName = "compat-undefined-not-present"
)

// Serialization methods and hash types.
const (
	MethodFiles  = "files"
	MethodShards = "shards"
	SHA256       = "sha256"
	BLAKE2b      = "blake2b"
	// DefaultShardSize is the reference's default shard size (1 GB).
	DefaultShardSize = 1_000_000_000
)

// DefaultIgnores are the git paths the reference leaves out by default.
var defaultIgnores = [...]string{".git", ".gitattributes", ".github", ".gitignore"}

// DefaultIgnores returns the git paths the reference leaves out unless
// told otherwise.
func DefaultIgnores() []string { return defaultIgnores[:] }

// Serialization records how a manifest was made, so a verifier can make it
// again: the predicate's "serialization" object.
type Serialization struct {
	Method        string   `json:"method"`
	HashType      string   `json:"hash_type"`
	ShardSize     int64    `json:"shard_size,omitempty"` // shards only
	AllowSymlinks bool     `json:"allow_symlinks"`
	IgnorePaths   []string `json:"ignore_paths,omitempty"`
}

// algorithm is the name each resource's digest is recorded under.
func (s Serialization) algorithm() string {
	if s.Method == MethodShards {
		return s.HashType + "-sharded-" + strconv.FormatInt(s.ShardSize, 10)
	}
	return s.HashType
}

// digestSize is the length of one digest of this hash type.
func digestSize(hashType string) int {
	if hashType == BLAKE2b {
		return 64
	}
	return 32
}

// A Resource is one file, or one shard of a file, and its digest.
type Resource struct {
	// Name is the slash-separated path relative to the model, with
	// ":start:end" appended for a shard.
	Name string
	// Path, Start and End are Name parsed; End is 0 for a whole file.
	Path       string
	Start, End int64
	Algorithm  string
	Digest     []byte
}

// A Manifest is every resource of a model, sorted, and how it was made.
type Manifest struct {
	// Model is the informative model name (the last element of its path).
	Model         string
	Serialization Serialization
	Resources     []Resource
}

// sortResources orders resources as the reference does.
func sortResources(rs []Resource) {
	slices.SortFunc(rs, compareResources)
}

// compareResources compares paths component by component, then offsets.
func compareResources(a, b Resource) int {
	if c := comparePaths(a.Path, b.Path); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
}

// comparePaths compares slash-separated paths as lists of components, as
// Python's PurePosixPath does: "a/b" < "a-b" because "a" < "a-b".
func comparePaths(a, b string) int {
	for a != "" || b != "" {
		var ca, cb string
		ca, a, _ = strings.Cut(a, "/")
		cb, b, _ = strings.Cut(b, "/")
		if c := strings.Compare(ca, cb); c != 0 {
			return c
		}
	}
	return 0
}

// RootDigest is the SHA-256 of the resources' digests, concatenated in
// order: the statement subject's digest.
func (m *Manifest) RootDigest() []byte {
	h := sha256.New()
	for _, r := range m.Resources {
		h.Write(r.Digest)
	}
	return h.Sum(nil)
}

// index maps resource names to resources.
func (m *Manifest) index() map[string]Resource {
	ix := make(map[string]Resource, len(m.Resources))
	for _, r := range m.Resources {
		ix[r.Name] = r
	}
	return ix
}

// A Diff is one way a model differs from its signed manifest.
type Diff struct {
	Kind DiffKind
	Name string // resource name
	// Want and Got are the digests, for Changed.
	Want, Got []byte
}

// DiffKind says how a resource differs.
type DiffKind int

// The ways a resource can differ.
const (
	Changed DiffKind = iota // content differs from the signed digest
	Missing                 // signed but not found
	Extra                   // found but not signed
)

func (k DiffKind) String() string {
	return [...]string{"changed", "missing", "extra"}[k]
}

func (d Diff) String() string {
	switch d.Kind {
	case Changed:
		return fmt.Sprintf("%s: changed (signed %x, found %x)", d.Name, d.Want, d.Got)
	case Missing:
		return d.Name + ": missing (signed, not found)"
	}
	return d.Name + ": extra (found, not signed)"
}

// Compare lists how got differs from want, in resource order: changed,
// missing and extra resources.
func Compare(want, got *Manifest) []Diff {
	type keyed struct {
		r Resource
		d Diff
	}
	var ds []keyed
	gix := got.index()
	wix := want.index()
	for _, w := range want.Resources {
		g, ok := gix[w.Name]
		switch {
		case !ok:
			ds = append(ds, keyed{w, Diff{Kind: Missing, Name: w.Name}})
		case !bytes.Equal(g.Digest, w.Digest) || g.Algorithm != w.Algorithm:
			ds = append(ds, keyed{w, Diff{Kind: Changed, Name: w.Name, Want: w.Digest, Got: g.Digest}})
		}
	}
	for _, g := range got.Resources {
		if _, ok := wix[g.Name]; !ok {
			ds = append(ds, keyed{g, Diff{Kind: Extra, Name: g.Name}})
		}
	}
	slices.SortStableFunc(ds, func(a, b keyed) int { return compareResources(a.r, b.r) })
	diffs := make([]Diff, len(ds))
	for i, k := range ds {
		diffs[i] = k.d
	}
	return diffs
}
