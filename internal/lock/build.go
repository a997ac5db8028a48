package lock

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// BuildOptions say what Build locks and how.
type BuildOptions struct {
	Options
	// Hasher hashes the files; nil is a default Hasher.
	Hasher *Hasher
	// Skip names files under the root never to lock, slash-separated and
	// relative to it: the lock file itself.
	Skip []string
	// Prior is the lock being verified or updated, or nil. Files it
	// recorded with shards are hashed by shards only (Verify); and where
	// Keep says so, its entries are kept instead of re-hashed (Update).
	Prior *File
	// Keep, if set, says which of Prior's entries to keep as they are:
	// those for which it returns true are neither re-hashed nor re-pinned.
	// It is given a file's or folder's path, or a pin's ID and locations.
	Keep func(pathOrID string, locations []string) bool
	// VerifyShards hashes files that Prior recorded with shards by their
	// shards alone, in parallel, leaving SHA256 empty.
	VerifyShards bool
	// Hashed are digests already computed (by Prehash), by path relative
	// to the root.
	Hashed map[string]Sum
}

// An Unpinned item cannot be locked immutably as it is.
type Unpinned struct {
	ID       string
	Location string
	// Fix says how to pin it.
	Fix string
}

// Build makes the lock of the folder root from a report of a scan of root:
// it hashes every model and dataset file (and every file with AllFiles),
// computes folder roots, and collects the pins. Items without an immutable
// identity are returned as unpinned; they are in the lock, marked, only if
// the caller keeps it. Files that could not be read are errors.
func Build(ctx context.Context, rep *inventory.Report, root string, opt BuildOptions) (*File, []Unpinned, error) {
	b := builder{root: root, opt: opt, lf: &File{Schema: Schema, Options: opt.Options}, byPath: map[string]int{}}
	comps := slices.Clone(rep.Components)
	slices.SortFunc(comps, func(a, c inventory.Component) int { return strings.Compare(a.ID, c.ID) })
	var unpinned []Unpinned
	for _, c := range comps {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if done, err := b.onDisk(c); err != nil {
			return nil, nil, err
		} else if done {
			continue
		}
		p, needs := b.pin(c)
		if p == nil {
			continue
		}
		if opt.Keep != nil && opt.Prior != nil && opt.Keep(p.ID, p.Locations) {
			continue // kept from Prior below
		}
		if needs && p.Unpinned {
			unpinned = append(unpinned, Unpinned{ID: p.ID, Location: first(p.Locations), Fix: howToPin(c)})
		}
		b.lf.Pins = append(b.lf.Pins, *p)
	}
	b.lf.Pins, unpinned = settled(b.lf.Pins, unpinned)
	if opt.AllFiles {
		if err := b.walk(".", ""); err != nil {
			return nil, nil, err
		}
	}
	if err := b.hash(ctx); err != nil {
		return nil, nil, err
	}
	if opt.Prior != nil && opt.Keep != nil {
		b.keep()
	}
	b.lf.Sort()
	b.roots()
	return b.lf, unpinned, nil
}

type builder struct {
	root   string
	opt    BuildOptions
	lf     *File
	byPath map[string]int // index in lf.Files
}

// rel is p relative to the root, slash-separated, and false when p is
// outside it.
func (b *builder) rel(p string) (string, bool) {
	r, err := filepath.Rel(b.root, p)
	if err != nil {
		return "", false
	}
	r = filepath.ToSlash(r)
	if r == ".." || strings.HasPrefix(r, "../") {
		return "", false
	}
	return r, true
}

// relID rewrites an ID or property that embeds a scanned path ("model:" +
// root + "/x") to the path relative to the root ("model:x").
func (b *builder) relID(id string) string {
	kind, rest, ok := strings.Cut(id, ":")
	if !ok {
		return id
	}
	prefix := filepath.ToSlash(filepath.Clean(b.root)) + "/"
	if prefix == "./" {
		return id
	}
	if r, ok := strings.CutPrefix(rest, prefix); ok {
		return kind + ":" + r
	}
	if rest == strings.TrimSuffix(prefix, "/") {
		return kind + ":."
	}
	return id
}

// onDisk adds c's files if c is a model or dataset whose ID names a file
// or folder under the root, and reports whether it was. A component that
// is its locations (an OCI model: its blobs) has all of them locked; one
// found through a reference (a Modelfile's FROM ./weights.gguf) has the
// file its ID names.
func (b *builder) onDisk(c inventory.Component) (bool, error) {
	if c.Kind != inventory.KindModel && c.Kind != inventory.KindDataset {
		return false, nil
	}
	p, ok := strings.CutPrefix(c.ID, string(c.Kind)+":")
	if !ok || strings.Contains(p, "!") {
		return false, nil // an archive member is pinned by its archive
	}
	if _, err := os.Stat(p); err != nil {
		return false, nil
	}
	if _, ok := b.rel(p); !ok {
		return false, nil
	}
	paths := []string{p}
	if len(c.Locations) > 0 && c.Locations[0].Path == p {
		for _, l := range c.Locations[1:] {
			paths = append(paths, l.Path)
		}
	}
	id := b.relID(c.ID)
	partOf := ""
	if p := c.Properties["part-of"]; p != "" {
		partOf = b.relID(p)
	}
	for i, p := range paths {
		r, ok := b.rel(p)
		if !ok || strings.Contains(p, "!") {
			continue
		}
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			continue // gone since the scan; verify will see it
		case fi.IsDir():
			if slices.ContainsFunc(b.lf.Folders, func(f Folder) bool { return f.Path == r }) {
				continue // two components of one folder: the first (by ID) names it
			}
			f := Folder{Path: r, Kind: c.Kind, ID: id, Name: c.Name, Version: c.Version, PURL: c.PURL, Git: gitRevision(p)}
			b.lf.Folders = append(b.lf.Folders, f)
			if err := b.walk(p, id); err != nil {
				return true, err
			}
		case fi.Mode().IsRegular():
			a := Artifact{Path: r, Kind: c.Kind, PartOf: partOf}
			if i == 0 {
				a.ID, a.Name, a.Version, a.PURL = id, c.Name, c.Version, c.PURL
			} else {
				a.PartOf = id
			}
			b.add(a)
		}
	}
	return true, nil
}

// add records a file to hash, merging it with one already recorded: a
// file a cataloger named keeps that identity, and a folder's membership.
func (b *builder) add(a Artifact) {
	if slices.Contains(b.opt.Skip, a.Path) {
		return
	}
	i, ok := b.byPath[a.Path]
	if !ok {
		b.byPath[a.Path] = len(b.lf.Files)
		b.lf.Files = append(b.lf.Files, a)
		return
	}
	old := &b.lf.Files[i]
	if old.ID == "" && a.ID != "" {
		old.ID, old.Name, old.Version, old.PURL, old.Kind = a.ID, a.Name, a.Version, a.PURL, a.Kind
	}
	if old.Kind == "file" && a.Kind != "file" {
		old.Kind = a.Kind
	}
	if old.PartOf == "" {
		old.PartOf = a.PartOf
	}
}

// walk records every regular file under dir (a path as scanned, or "."
// for the root) as part of the folder component id. Symbolic links to
// files are followed (a Hugging Face snapshot is made of them); links to
// folders are not, and version-control folders are skipped.
func (b *builder) walk(dir, id string) error {
	if dir == "." {
		dir = b.root
	}
	kind := inventory.Kind("file")
	if id != "" {
		k, _, _ := strings.Cut(id, ":")
		kind = inventory.Kind(k)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("locking %s: %w", dir, err)
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".hg", ".svn":
				if p != dir {
					return filepath.SkipDir
				}
			}
			return nil
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return nil // a dangling link or a device: nothing to pin
		}
		r, ok := b.rel(p)
		if !ok {
			return nil
		}
		b.add(Artifact{Path: r, Kind: kind, PartOf: id})
		return nil
	})
}

// hash fills in the digests of every recorded file, taking those already
// hashed (BuildOptions.Hashed) as they are.
func (b *builder) hash(ctx context.Context) error {
	h := b.opt.Hasher
	if h == nil {
		h = &Hasher{}
	}
	var jobs []Job
	var idx []int
	for i, a := range b.lf.Files {
		if b.opt.Keep != nil && b.opt.Prior != nil && b.opt.Keep(a.Path, nil) {
			continue
		}
		if s, ok := b.opt.Hashed[a.Path]; ok {
			b.lf.Files[i].Size, b.lf.Files[i].SHA256, b.lf.Files[i].Shards = s.Size, s.SHA256, s.Shards
			continue
		}
		jobs, idx = append(jobs, jobFor(b.root, a.Path, b.opt)), append(idx, i)
	}
	sums, errs, err := h.Hash(ctx, jobs)
	if err != nil {
		return err
	}
	for k, i := range idx {
		if errs[k] != nil {
			return fmt.Errorf("hashing: %w", errs[k])
		}
		a := &b.lf.Files[i]
		a.Size, a.SHA256, a.Shards = sums[k].Size, sums[k].SHA256, sums[k].Shards
	}
	return nil
}

// jobFor is how Build hashes the file at rel: whole (and by shards with
// Shards), or by shards alone when verifying a file Prior has shards of.
func jobFor(root, rel string, opt BuildOptions) Job {
	j := Job{Path: filepath.Join(root, filepath.FromSlash(rel)), Whole: true, Shards: opt.Shards}
	if opt.VerifyShards && opt.Prior != nil {
		if i, ok := slices.BinarySearchFunc(opt.Prior.Files, rel, func(a Artifact, p string) int {
			return strings.Compare(a.Path, p)
		}); ok && len(opt.Prior.Files[i].Shards) > 0 {
			j.Whole, j.Shards = false, true
		}
	}
	return j
}

// Prehash hashes the files opt.Prior pins, under root, as Build with opt
// will want them, so that the hashing can run while the tree is scanned;
// give the result to Build as BuildOptions.Hashed. Files that cannot be
// read are left out: Build tries them again, and finds them missing or
// reports the error. opt.Prior must be sorted, as Parse leaves it.
func Prehash(ctx context.Context, root string, opt BuildOptions) (map[string]Sum, error) {
	if opt.Prior == nil {
		return nil, nil
	}
	h := opt.Hasher
	if h == nil {
		h = &Hasher{}
	}
	jobs := make([]Job, len(opt.Prior.Files))
	for i, a := range opt.Prior.Files {
		jobs[i] = jobFor(root, a.Path, opt)
	}
	sums, errs, err := h.Hash(ctx, jobs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Sum, len(jobs))
	for i, a := range opt.Prior.Files {
		if errs[i] == nil {
			out[a.Path] = sums[i]
		}
	}
	return out, nil
}

// keep replaces what Keep names with Prior's entries.
func (b *builder) keep() {
	keep, prior := b.opt.Keep, b.opt.Prior
	files := b.lf.Files[:0]
	for _, a := range b.lf.Files {
		if !keep(a.Path, nil) {
			files = append(files, a)
		}
	}
	for _, a := range prior.Files {
		if keep(a.Path, nil) {
			files = append(files, a)
		}
	}
	b.lf.Files = files
	for _, p := range prior.Pins {
		if keep(p.ID, p.Locations) {
			b.lf.Pins = append(b.lf.Pins, p)
		}
	}
	folders := b.lf.Folders[:0]
	for _, f := range b.lf.Folders {
		if !keep(f.Path, nil) {
			folders = append(folders, f)
		}
	}
	for _, f := range prior.Folders {
		if keep(f.Path, nil) {
			folders = append(folders, f)
		}
	}
	b.lf.Folders = folders
}

// roots computes every folder's root digest from its files' digests.
func (b *builder) roots() {
	for i := range b.lf.Folders {
		f := &b.lf.Folders[i]
		f.Root, f.Files = FolderRoot(b.lf.Files, f.Path)
	}
}

// FolderRoot is the dirhash "h1:" digest of the files under dir, and their
// number: the base64 SHA-256 of the lines "<sha256>  <path>\n", paths
// relative to dir and sorted (golang.org/x/mod/sumdb/dirhash Hash1). A
// file known only by its shards makes the root empty: it cannot be
// computed without the whole-file digest.
func FolderRoot(files []Artifact, dir string) (string, int) {
	prefix := dir + "/"
	if dir == "." {
		prefix = ""
	}
	var lines []string
	for _, a := range files {
		r, ok := strings.CutPrefix(a.Path, prefix)
		if !ok {
			continue
		}
		if a.SHA256 == "" {
			return "", 0
		}
		lines = append(lines, a.SHA256+"  "+r+"\n")
	}
	slices.SortFunc(lines, func(x, y string) int {
		return strings.Compare(x[66:], y[66:])
	})
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
	}
	return "h1:" + base64.StdEncoding.EncodeToString(h.Sum(nil)), len(lines)
}

// settled drops the unpinned pins that a pinned one of the same package
// settles: a manifest's range (pyproject.toml: torch>=2) locked by a
// lockfile (uv.lock: torch 2.5.1) is pinned by the lockfile.
func settled(pins []Pin, unpinned []Unpinned) ([]Pin, []Unpinned) {
	locked := map[string]bool{}
	for _, p := range pins {
		if !p.Unpinned {
			locked[PinKey(p)] = true
		}
	}
	drop := map[string]bool{}
	out := pins[:0]
	for _, p := range pins {
		if p.Unpinned && locked[PinKey(p)] {
			drop[p.ID] = true
			continue
		}
		out = append(out, p)
	}
	var left []Unpinned
	for _, u := range unpinned {
		if !drop[u.ID] {
			left = append(left, u)
		}
	}
	return out, left
}

// pin makes the pin of a component that is not a file, if it is something
// the project fetches or runs, and says whether it must be pinned.
func (b *builder) pin(c inventory.Component) (*Pin, bool) {
	if len(c.Locations) > 0 && c.ID == inventory.FileComponentID(c.Kind, c.Locations[0].Path) {
		return nil, false // a file (a Dockerfile, a workflow), not a dependency
	}
	needs := false
	switch c.Kind {
	case inventory.KindPackage, inventory.KindContainer:
		needs = c.Properties["main"] != "true"
	case inventory.KindWorkflow:
		if c.PURL == "" && c.Properties["url"] == "" {
			return nil, false // a workflow file, not a dependency
		}
		needs = true
	case inventory.KindModel, inventory.KindDataset:
		needs = c.Properties["loader"] != ""
	case inventory.KindPlugin:
	default:
		return nil, false
	}
	p := &Pin{ID: b.relID(c.ID), Kind: c.Kind, Name: c.Name, Version: c.Version, PURL: c.PURL,
		Source: cmpOrStr(c.Properties["index"], c.Properties["hub"]), Digests: slices.Clone(c.Digests)}
	for _, l := range c.Locations {
		r := l.Path
		if rr, ok := b.rel(l.Path); ok {
			r = rr
		}
		if !slices.Contains(p.Locations, r) {
			p.Locations = append(p.Locations, r)
		}
	}
	if needs {
		pinned, ok := c.Properties["pinned"]
		// Without a pinned property, a version or a content digest pins.
		p.Unpinned = ok && pinned != "true" || !ok && c.Version == "" && !hasSHA256(c)
	}
	return p, needs
}

func cmpOrStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// howToPin says how to give c an immutable identity.
func howToPin(c inventory.Component) string {
	eco := c.Properties["ecosystem"]
	if eco == "" {
		eco, _, _ = strings.Cut(strings.TrimPrefix(c.PURL, "pkg:"), "/")
	}
	switch {
	case c.Properties["source"] == "mcp":
		return "name an exact version in the launch: npx -y pkg@1.2.3, uvx pkg==1.2.3, or an image by @sha256 digest"
	case eco == "github" && c.Kind == inventory.KindPackage:
		repo, sub, _ := strings.Cut(strings.TrimPrefix(c.PURL, "pkg:github/"), "#")
		repo, _, _ = strings.Cut(repo, "@")
		if sub != "" {
			repo += "/" + sub
		}
		return "pin it to a full commit SHA: uses: " + repo + "@<40-hex sha> # " + c.Version
	case eco == "gitlab" || c.Kind == inventory.KindWorkflow:
		return "include it by a full commit SHA (ref: <40-hex sha>), or vendor the file"
	case eco == "docker" || eco == "oci" || c.Kind == inventory.KindContainer:
		return "pin the image by digest: NAME@sha256:<digest> (docker buildx imagetools inspect NAME shows it)"
	case c.Properties["hub"] == "torch-hub":
		return "load a commit: torch.hub.load(\"owner/repo:<40-hex sha>\", ...)"
	case c.Properties["hub"] == "ollama":
		return "pull by digest, or download the weights and lock the file"
	case c.Properties["hub"] == "huggingface":
		return "pass the full commit as revision=\"<40-hex commit>\" (huggingface-cli repo info NAME shows it)"
	case c.Kind == inventory.KindModel || c.Kind == inventory.KindDataset:
		return "reference an immutable revision or digest, or download it and lock the file"
	case eco == "pypi":
		return "pin ==VERSION in a lockfile with hashes (uv lock, pip-compile --generate-hashes)"
	case eco == "npm":
		return "pin the exact version and commit the lockfile (package-lock.json, pnpm-lock.yaml, yarn.lock)"
	case eco == "golang":
		return "require a released version from a module proxy instead of a local replace"
	}
	return "pin an exact version or digest"
}
