// Package repo catalogs model repositories — Hugging Face-style folders and
// hub caches — and the containers models ship in beside them: TorchServe
// .mar archives and OCI image layouts holding model artifacts.
//
// A repository is a folder with a model config.json (or a model_index.json),
// a snapshot folder of a hub cache, or a folder huggingface_hub downloaded
// into. It becomes one model component, named org/name with a
// pkg:huggingface purl where the cache says so, carrying what config.json
// and the model card say; its weight files are linked to it by a "part-of"
// property, and a sharded checkpoint becomes one component of its own. The
// cataloger reads configs, indexes, cards, tokenizer configs and Python
// source, never weights: it knows them by their first bytes and names.
//
// Findings: code that loading runs (auto_map, trust_remote_code) and what
// that code does, scripts, notebooks and native binaries beside weights,
// un-fetched LFS pointers, missing or escaping shards, chat templates, and
// files whose content is not what their name says.
package repo

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/hfcache"
	"github.com/chainvet/chainvet/internal/modelfile/jinja"
	"github.com/chainvet/chainvet/internal/modelfile/modelcard"
	"github.com/chainvet/chainvet/internal/modelfile/pysource"
)

// Property keys this package sets.
const (
	PropFormat       = "format"
	PropFramework    = "framework"
	PropArchitecture = "architecture"
	PropDtype        = "dtype"
	PropContext      = "context-length"
	PropLicense      = "license"
	PropBaseModel    = "base-model"
	PropDatasets     = "datasets"
	PropRepository   = "repository"
	PropRevision     = "revision"
	PropTensors      = "tensors"
	PropPartOf       = "part-of"
	PropParameters   = "parameters"
	PropQuantization = "quantization"

	// FormatRepo marks the component of a whole repository folder.
	FormatRepo = "hf-repo"
)

// Limits bound what the catalogers in this package read.
type Limits struct {
	// JSON is the largest JSON file parsed: configs, shard indexes,
	// tokenizer configs, notebooks, manifests. A 1 TB checkpoint's index
	// is a few MB; notebooks with outputs can be larger.
	JSON int64
	// DirEntries is the most entries of one folder listed to decide
	// whether it holds weights.
	DirEntries int
	// Members is the most .py members of a .mar read.
	Members int
	// Manifests is the most manifests followed in one OCI layout.
	Manifests int
	Source    pysource.Limits
	Card      modelcard.Limits
	Template  jinja.Limits
}

// DefaultLimits are the limits used for zero fields.
var DefaultLimits = Limits{
	JSON: 64 << 20, DirEntries: 10_000, Members: 256, Manifests: 1024,
	Source: pysource.DefaultLimits, Card: modelcard.DefaultLimits, Template: jinja.DefaultLimits,
}

func (l Limits) withDefaults() Limits {
	l.JSON = cmp.Or(max(l.JSON, 0), DefaultLimits.JSON)
	l.DirEntries = cmp.Or(max(l.DirEntries, 0), DefaultLimits.DirEntries)
	l.Members = cmp.Or(max(l.Members, 0), DefaultLimits.Members)
	l.Manifests = cmp.Or(max(l.Manifests, 0), DefaultLimits.Manifests)
	l.Source.Bytes = cmp.Or(max(l.Source.Bytes, 0), pysource.DefaultLimits.Bytes)
	l.Card.Bytes = cmp.Or(max(l.Card.Bytes, 0), modelcard.DefaultLimits.Bytes)
	l.Template.Bytes = cmp.Or(max(l.Template.Bytes, 0), jinja.DefaultLimits.Bytes)
	return l
}

// Repo catalogs the files of model repositories.
type Repo struct {
	Limits Limits
	dirs   *folders // nil: nothing cached (see New)
}

// Name implements inventory.Cataloger.
func (Repo) Name() string { return "models/repo" }

// role is what a file is to a repository; a file may have several.
type role uint16

const (
	rConfig   role = 1 << iota // config.json and the other configs loaders read
	rIndex                     // a sharded checkpoint's *.index.json
	rCard                      // README.md with front matter
	rPython                    // *.py on disk
	rNotebook                  // *.ipynb on disk
	rScript                    // shell and other scripts on disk
	rLFS                       // a Git LFS pointer
	rNative                    // ELF, Mach-O or PE
	rMismatch                  // a name promising another format
	rWeight                    // a weight file on disk, to link to its repository
)

// configNames are the JSON files loaders read that can name code to run
// (auto_map) or hold a chat template.
var configNames = map[string]bool{
	"config.json": true, "tokenizer_config.json": true, "preprocessor_config.json": true,
	"processor_config.json": true, "chat_template.json": true, "model_index.json": true,
}

var scriptExts = map[string]bool{".sh": true, ".bash": true, ".zsh": true, ".ps1": true, ".bat": true, ".cmd": true}

func jsonObject(h []byte) bool {
	for _, c := range h {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

// roles says what f is, from its name, head and tail; no I/O.
func roles(f *inventory.File) (role, content) {
	c := sniff(f)
	var r role
	name := strings.ToLower(f.Name)
	e := ext(name)
	disk := f.Depth == 0
	switch {
	case configNames[name] && jsonObject(f.Head):
		r |= rConfig
	case strings.HasSuffix(name, ".index.json") && jsonObject(f.Head):
		r |= rIndex
	case name == "readme.md" && disk && (c == cText):
		r |= rCard
	case disk && c == cText && (e == ".py" || e == "" && isPythonShebang(f.Head)):
		r |= rPython
	case e == ".ipynb" && disk && jsonObject(f.Head):
		r |= rNotebook
	case disk && c == cText && (scriptExts[e] || e != ".py" && strings.HasPrefix(string(f.Head), "#!")):
		r |= rScript
	}
	switch {
	case c == cLFS:
		r |= rLFS
	case c.native():
		r |= rNative
	}
	if maybeMismatch(f, c) {
		r |= rMismatch
	}
	if disk && isWeight(f, c) {
		r |= rWeight
	}
	return r, c
}

// isPythonShebang reports a "#!" line that runs Python.
func isPythonShebang(h []byte) bool {
	first, _, _ := strings.Cut(string(h[:min(len(h), 128)]), "\n")
	return strings.HasPrefix(first, "#!") && strings.Contains(first, "python")
}

// Wants implements inventory.Cataloger.
func (Repo) Wants(f *inventory.File) bool {
	r, _ := roles(f)
	return r != 0
}

// Catalog implements inventory.Cataloger.
func (rp Repo) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	lim := rp.Limits.withDefaults()
	r, c := roles(f)
	repo := locate(f, lim, rp.dirs)
	if repo != nil {
		s.Component(repo.component())
	}
	x := &cat{ctx: ctx, f: f, s: s, lim: lim, repo: repo, dirs: rp.dirs}
	if r&rMismatch != 0 {
		if got, ok := mismatch(f, c); ok {
			x.mismatch(got)
			r &^= rNative // the disguise is the finding
		}
	}
	if r&rLFS != 0 {
		x.lfs()
	}
	if r&rNative != 0 {
		x.native(c)
	}
	var err error
	switch {
	case r&rConfig != 0:
		err = x.config()
	case r&rIndex != 0:
		err = x.index()
	case r&rCard != 0:
		err = x.card()
	case r&rPython != 0:
		err = x.python()
	case r&rNotebook != 0:
		err = x.notebook()
	case r&rScript != 0:
		x.script()
	}
	if r&rWeight != 0 && r&rLFS == 0 {
		x.weight()
	}
	return err
}

// cat is the work on one file.
type cat struct {
	ctx  context.Context
	f    *inventory.File
	s    inventory.Sink
	lim  Limits
	repo *repository // nil outside a repository
	raw  []byte      // the JSON decodeJSON read
	dirs *folders    // the run's cache, or nil
}

// comp is the component findings about the file belong to.
func (x *cat) comp() string {
	if x.f.Component != "" {
		return x.f.Component
	}
	if x.repo != nil {
		return x.repo.id
	}
	return ""
}

func (x *cat) finding(rule string, sev inventory.Severity, evidence, message, fix string) inventory.Finding {
	return inventory.Finding{
		Rule: rule, Severity: sev, Component: x.comp(), Path: x.f.Path,
		Evidence: evidence, Message: message, Remediation: fix,
	}
}

// readAll reads the whole file, up to limit bytes; a larger file is a
// scan/limit finding and no bytes.
func (x *cat) readAll(limit int64, what string) ([]byte, bool, error) {
	if x.f.Size > limit {
		fd := x.finding(inventory.RuleScanLimit, inventory.High,
			fmt.Sprintf("%s of %d bytes > limit %d", what, x.f.Size, limit),
			"the file is larger than the limit and was not analysed: it is not known to be clean",
			"review it by hand, or raise the limit if the file is legitimate")
		x.s.Finding(fd)
		return nil, false, nil
	}
	b := make([]byte, x.f.Size)
	if _, err := x.f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("%s: %w", x.f.Path, err)
	}
	return b, true, nil
}

// decodeJSON reads the file as JSON into v; a file that is not JSON is a
// repo/malformed finding and false. The bytes read are kept in x.raw, for
// finding the line of a key.
func (x *cat) decodeJSON(v any, what string) (bool, error) {
	b, ok, err := x.readAll(x.lim.JSON, what)
	if !ok || err != nil {
		return false, err
	}
	x.raw = b
	if err := json.Unmarshal(b, v); err != nil {
		if x.repo == nil && !x.besideWeights() {
			return false, nil // some project's own JSON, not a model's
		}
		fd := x.finding("repo/malformed", inventory.Medium, err.Error(),
			"the "+what+" is not valid JSON: loaders fail on it or read it differently than this scan",
			"re-create the file with the library that writes it, or reject the repository")
		var se *json.SyntaxError
		if errors.As(err, &se) {
			fd.Offset = inventory.At(se.Offset)
		}
		x.s.Finding(fd)
		return false, nil
	}
	return true, nil
}

// lineOf is the 1-based line of the first occurrence of s in the JSON
// read last, or 0.
func (x *cat) lineOf(s string) int {
	i := bytes.Index(x.raw, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(x.raw[:i], []byte("\n")) + 1
}

// A repository is the model repository a file on disk belongs to.
type repository struct {
	root string
	id   string
	name string
	hf   *hfcache.Ref   // in a hub cache
	dl   *hfcache.Local // downloaded with local_dir
	cfg  map[string]any // config.json, when it was read to find the repository
}

// maxConfigProbe is the largest config.json read to decide whether a
// folder is a model repository; model configs are a few KB.
const maxConfigProbe = 4 << 20

// locate finds the repository f belongs to: its hub-cache snapshot, the
// folder huggingface_hub downloaded it into, or its own folder when that
// holds a model config.json or a model_index.json.
func locate(f *inventory.File, lim Limits, dirs *folders) *repository {
	if f.Depth > 0 || strings.Contains(f.Path, "!") {
		return nil
	}
	if ref, ok := hfcache.Locate(f.Path); ok && ref.Type == "model" {
		return &repository{root: ref.Snapshot, id: inventory.FileComponentID(inventory.KindModel, ref.Snapshot), name: ref.Repo, hf: &ref}
	}
	dir := filepath.Dir(f.Path)
	if dirs.mayBeLocal(dir) {
		if l, ok := hfcache.LocalOf(f.Path); ok {
			return &repository{root: l.Root, id: inventory.FileComponentID(inventory.KindModel, l.Root), name: filepath.Base(l.Root), dl: &l}
		}
	}
	return dirs.repository(dir, func(dir string) *repository {
		if cfg := modelConfig(filepath.Join(dir, "config.json")); cfg != nil {
			return &repository{root: dir, id: inventory.FileComponentID(inventory.KindModel, dir), name: filepath.Base(dir), cfg: cfg}
		}
		if fi, err := os.Stat(filepath.Join(dir, "model_index.json")); err == nil && fi.Mode().IsRegular() {
			return &repository{root: dir, id: inventory.FileComponentID(inventory.KindModel, dir), name: filepath.Base(dir)}
		}
		return nil
	})
}

// modelConfig reads path and returns it when it is a model's config: a
// JSON object naming a model type, architectures or custom code.
func modelConfig(path string) map[string]any {
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxConfigProbe+1))
	if err != nil || len(b) > maxConfigProbe {
		return nil
	}
	var cfg map[string]any
	if json.Unmarshal(b, &cfg) != nil {
		return nil
	}
	for _, k := range []string{"model_type", "architectures", "auto_map", "transformers_version", "_class_name"} {
		if _, ok := cfg[k]; ok {
			return cfg
		}
	}
	return nil
}

func (r *repository) component() inventory.Component {
	c := inventory.Component{
		ID: r.id, Kind: inventory.KindModel, Name: r.name,
		Locations:  []inventory.Location{{Path: r.root}},
		Properties: map[string]string{PropFormat: FormatRepo},
	}
	switch {
	case r.hf != nil:
		c.PURL = r.hf.PURL()
		c.Version = r.hf.Commit
		c.Properties[PropRepository] = r.hf.Repo
		c.Properties[PropRevision] = r.hf.Commit
	case r.dl != nil:
		c.Version = r.dl.Commit
		c.Properties[PropRevision] = r.dl.Commit
	}
	return c
}

// besideWeights reports whether f's folder holds weight files (by name;
// listing at most lim.DirEntries entries), or f is in a repository.
func (x *cat) besideWeights() bool {
	if x.repo != nil {
		return true
	}
	if x.f.Depth > 0 {
		return false
	}
	return x.dirs.hasWeights(filepath.Dir(x.f.Path), x.lim.DirEntries)
}

// weight links a weight file to its repository and records the sha256 the
// hub cache or download metadata names it by.
func (x *cat) weight() {
	if x.repo == nil || x.f.Component != "" {
		return
	}
	id := inventory.FileComponentID(inventory.KindModel, x.f.Path)
	c := inventory.Component{
		ID: id, Kind: inventory.KindModel, Name: x.f.Name,
		Locations:  []inventory.Location{{Path: x.f.Path}},
		Properties: map[string]string{},
	}
	if !inShardedCheckpoint(x.f.Path) {
		c.Properties[PropPartOf] = x.repo.id
	}
	switch {
	case x.repo.hf != nil:
		c.Properties[PropRepository] = x.repo.hf.Repo
		c.Properties[PropRevision] = x.repo.hf.Commit
		if b, err := hfcache.BlobOf(x.f.Path); err == nil && b.SHA256 != "" {
			c.Digests = []inventory.Digest{{Algorithm: "sha256", Value: b.SHA256}}
		}
	case x.repo.dl != nil:
		if l, ok := hfcache.LocalOf(x.f.Path); ok {
			c.Properties[PropRevision] = l.Commit
			if l.SHA256 != "" {
				c.Digests = []inventory.Digest{{Algorithm: "sha256", Value: l.SHA256}}
			}
		}
	}
	x.s.Component(c)
}
