// Package datasets inventories the datasets in a tree: data files known by
// their content (Parquet, Arrow, TFRecord; JSON Lines and CSV by name and
// text), DVC-tracked outputs, Hugging Face dataset caches and dataset
// cards, and the hub datasets that model cards say a model was trained on.
//
// It reads headers, trailers and small metadata files only; it never reads
// a data file through, so it computes no digest of one (scan --digests
// does). Component IDs: "dataset:<path>" for a file or folder in the tree
// (the ID inventory.FileComponentID gives), "dataset:huggingface/<repo>"
// and "dataset:huggingface/<repo>@<commit>" for hub datasets: the purl
// spec's huggingface type covers models only, so datasets carry no purl.
package datasets

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/hfcache"
	"github.com/chainvet/chainvet/internal/modelfile/modelcard"
)

// Limits on the metadata files read whole, in bytes.
const (
	// maxDVC bounds a .dvc file: real ones are a few hundred bytes, a
	// directory output with many files still under a KB.
	maxDVC = 1 << 20
	// maxCard bounds a README read for its front matter: cards with long
	// prose run to tens of KB, the front matter is at the start.
	maxCard = 1 << 20
)

// RuleMalformed is reported for metadata that does not parse and for a
// data file whose structure contradicts its magic bytes.
const RuleMalformed = "bom/malformed"

// Files is the cataloger "datasets/files".
type Files struct{}

func (Files) Name() string { return "datasets/files" }

type fileType int

const (
	notWanted fileType = iota
	parquetFile
	arrowFile
	arrowStream
	featherV1
	tfrecordFile
	jsonlFile
	csvFile
	dvcFile
	cardFile
	cachedFile // any other file in a datasets-- hub cache snapshot
)

var formatNames = map[fileType]string{
	parquetFile: "parquet", arrowFile: "arrow", arrowStream: "arrow-stream", featherV1: "feather",
	tfrecordFile: "tfrecord", jsonlFile: "jsonl", csvFile: "csv",
}

var (
	parquetMagic = []byte("PAR1")
	arrowMagic   = []byte("ARROW1")
	featherMagic = []byte("FEA1")
)

// last returns the file's last n bytes from Head and Tail.
func last(f *inventory.File, n int) []byte {
	b := f.Tail
	if len(b) == 0 {
		b = f.Head
	}
	if len(b) < n {
		return nil
	}
	return b[len(b)-n:]
}

func classify(f *inventory.File) fileType {
	name := strings.ToLower(f.Name)
	h := f.Head
	switch {
	case f.Size >= 12 && bytes.HasPrefix(h, parquetMagic) && bytes.Equal(last(f, 4), parquetMagic):
		return parquetFile
	case f.Size >= 12 && bytes.HasPrefix(h, arrowMagic) && bytes.Equal(last(f, 6), arrowMagic):
		return arrowFile
	case f.Size >= 8 && bytes.HasPrefix(h, featherMagic) && bytes.Equal(last(f, 4), featherMagic):
		return featherV1
	case strings.HasSuffix(name, ".arrow") && bytes.HasPrefix(h, []byte{0xff, 0xff, 0xff, 0xff}):
		return arrowStream
	case tfrecordHead(h):
		return tfrecordFile
	}
	textual := bytes.IndexByte(h, 0) < 0
	switch {
	case textual && strings.HasSuffix(name, ".dvc"):
		return dvcFile
	case textual && (strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".ndjson")) &&
		bytes.HasPrefix(bytes.TrimLeft(h, " \t\r\n\ufeff"), []byte("{")):
		return jsonlFile
	case textual && (strings.HasSuffix(name, ".csv") || strings.HasSuffix(name, ".tsv")) && f.Size > 0:
		return csvFile
	case textual && name == "readme.md" && bytes.HasPrefix(bytes.TrimPrefix(h, []byte("\xef\xbb\xbf")), []byte("---")):
		return cardFile
	}
	if !strings.Contains(f.Path, "datasets--") {
		return notWanted
	}
	if ref, ok := hfcache.Locate(f.Path); ok && ref.Type == "dataset" && f.Depth == 0 {
		return cachedFile
	}
	return notWanted
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// tfrecordHead checks the first record's header: a little-endian uint64
// length and the masked CRC-32C of those eight bytes. Four bytes of
// checksum make a chance match about one in four billion.
func tfrecordHead(h []byte) bool {
	if len(h) < 12 {
		return false
	}
	c := crc32.Checksum(h[:8], castagnoli)
	masked := (c>>15 | c<<17) + 0xa282ead8
	return binary.LittleEndian.Uint32(h[8:12]) == masked
}

// Wants takes data files by magic bytes (Parquet and Arrow at both ends,
// a TFRecord's checksummed first header), JSON Lines and CSV by name and
// text, .dvc files, READMEs that open with front matter, and files in a
// datasets-- snapshot of a hub cache.
func (Files) Wants(f *inventory.File) bool { return classify(f) != notWanted }

func (Files) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	t := classify(f)
	switch t {
	case dvcFile:
		return dvc(f, s)
	case cardFile:
		return card(f, s)
	}
	id := inventory.FileComponentID(inventory.KindDataset, f.Path)
	if f.Component != "" {
		id = f.Component
	}
	props := map[string]string{}
	if fm := formatNames[t]; fm != "" {
		props["format"] = fm
	}
	if t == parquetFile {
		// The footer's length sits before the closing magic; a length that
		// does not fit is a file cut short or built to mislead.
		if n := binary.LittleEndian.Uint32(last(f, 8)[:4]); int64(n) > f.Size-12 {
			s.Finding(inventory.Finding{
				Rule: RuleMalformed, Severity: inventory.Low, Component: id, Path: f.Path, Offset: inventory.At(f.Size - 8),
				Evidence:    fmt.Sprintf("footer length %d in a file of %d bytes", n, f.Size),
				Message:     "a Parquet file's footer length does not fit in the file; its schema could not be read",
				Remediation: "re-download or regenerate the file",
			})
		}
	}
	c := inventory.Component{ID: id, Kind: inventory.KindDataset, Name: f.Name, Properties: props,
		Locations: []inventory.Location{{Path: f.Path}}}
	if ref, ok := hfcache.Locate(f.Path); ok && ref.Type == "dataset" {
		// A file of a cached hub dataset is part of the repository at its commit.
		c.ID, c.Name, c.Version = hubID(ref.Repo, ref.Commit), ref.Repo, ref.Commit
		props["hub"], props["revision"], props["pinned"] = "huggingface", ref.Commit, "true"
		if b, err := hfcache.BlobOf(f.Path); err == nil && b.SHA256 != "" && t != cachedFile {
			// The cache names an LFS blob by its sha256: a digest for free.
			c.Digests = []inventory.Digest{{Algorithm: "sha256", Value: b.SHA256}}
		}
		if t == cachedFile {
			delete(props, "format")
		}
	} else if t == cachedFile {
		return nil
	}
	s.Component(c)
	return nil
}

func hubID(repo, commit string) string {
	id := "dataset:huggingface/" + repo
	if commit != "" {
		id += "@" + commit
	}
	return id
}

// readSmall reads a metadata file whole, or reports that it is too big.
func readSmall(f *inventory.File, limit int64, s inventory.Sink) ([]byte, bool, error) {
	if f.Size > limit {
		s.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: f.Path,
			Evidence:    fmt.Sprintf("%d bytes", f.Size),
			Message:     fmt.Sprintf("file is %d bytes, more than the %d read for dataset metadata; the datasets it names are not in the inventory", f.Size, limit),
			Remediation: "review the file by hand",
		})
		return nil, false, nil
	}
	if f.Whole() {
		return f.Head, true, nil
	}
	b := make([]byte, f.Size)
	if n, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && n == len(b)) {
		return nil, false, fmt.Errorf("%s: %w", f.Path, err)
	}
	return b, true, nil
}

func malformed(s inventory.Sink, p string, line int, err error, what string) {
	s.Finding(inventory.Finding{
		Rule: RuleMalformed, Severity: inventory.Low, Path: p, Line: line, Evidence: err.Error(),
		Message:     "a " + what + " could not be parsed; datasets it declares may be missing from the inventory",
		Remediation: "fix the file's syntax",
	})
}

// card reads a README's front matter. A dataset card (in a datasets--
// cache, or carrying keys only dataset cards have) makes its folder a
// dataset; a model card's datasets: list names hub datasets.
func card(f *inventory.File, s inventory.Sink) error {
	b, ok, err := readSmall(f, maxCard, s)
	if !ok {
		return err
	}
	c, err := modelcard.Read(b, modelcard.DefaultLimits)
	if err != nil {
		malformed(s, f.Path, 0, err, "card's front matter")
		return nil
	}
	if c == nil {
		return nil
	}
	loc := []inventory.Location{{Path: f.Path}}
	ref, inCache := hfcache.Locate(f.Path)
	isDataset := inCache && ref.Type == "dataset"
	if !inCache {
		for _, k := range []string{"task_categories", "dataset_info", "configs", "size_categories", "annotations_creators", "source_datasets"} {
			if c.Root.Get(k) != nil {
				isDataset = true
			}
		}
	}
	if isDataset {
		dir := path.Dir(strings.ReplaceAll(f.Path, "\\", "/"))
		d := inventory.Component{ID: inventory.FileComponentID(inventory.KindDataset, dir), Kind: inventory.KindDataset,
			Name: path.Base(dir), Locations: loc, Properties: map[string]string{}}
		if inCache {
			d.ID, d.Name, d.Version = hubID(ref.Repo, ref.Commit), ref.Repo, ref.Commit
			d.Properties["hub"], d.Properties["revision"], d.Properties["pinned"] = "huggingface", ref.Commit, "true"
		}
		set(d.Properties, "license", c.License)
		set(d.Properties, "task-categories", c.Root.Get("task_categories").Strings())
		set(d.Properties, "language", c.Language)
		set(d.Properties, "source-datasets", c.Root.Get("source_datasets").Strings())
		s.Component(d)
		return nil
	}
	// A model card: each dataset it names, for the BOM to link the model to.
	for _, name := range c.Datasets {
		if !hubRepo(name) {
			continue
		}
		s.Component(inventory.Component{ID: hubID(name, ""), Kind: inventory.KindDataset, Name: name, Locations: loc,
			Properties: map[string]string{"hub": "huggingface", "pinned": "false", "referenced-by": "model-card"}})
	}
	return nil
}

func set(p map[string]string, k string, v []string) {
	if len(v) > 0 {
		p[k] = strings.Join(v, ",")
	}
}

// hubRepo says whether s can be a hub repository id: "name" or
// "org/name" of letters, digits and ._-.
func hubRepo(s string) bool {
	if s == "" || len(s) > 192 || strings.Contains(s, "..") || strings.Count(s, "/") > 1 {
		return false
	}
	for _, part := range strings.Split(s, "/") {
		if part == "" || part[0] == '.' || part[0] == '-' {
			return false
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
				return false
			}
		}
	}
	return true
}
