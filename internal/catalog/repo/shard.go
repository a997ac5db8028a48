package repo

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// maxShards bounds the distinct shard files of one index: the largest
// public checkpoints have a few hundred.
const maxShards = 100_000

// shardName matches the names transformers gives shards:
// model-00001-of-00004.safetensors.
var shardName = regexp.MustCompile(`^(.+)-[0-9]{5}-of-[0-9]{5}(\.[A-Za-z0-9]+)$`)

// inShardedCheckpoint reports whether the file at p is a shard whose index
// sits beside it: the index links it, not the repository.
func inShardedCheckpoint(p string) bool {
	m := shardName.FindStringSubmatch(filepath.Base(p))
	if m == nil {
		return false
	}
	_, err := os.Stat(filepath.Join(filepath.Dir(p), m[1]+m[2]+".index.json"))
	return err == nil
}

// shardIndex is the layout transformers writes for a sharded checkpoint.
type shardIndex struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

// index makes a sharded checkpoint one model: its index, with every shard
// file as a location and each shard's own component part of it.
func (x *cat) index() error {
	var raw map[string]json.RawMessage
	if ok, err := x.decodeJSON(&raw, "shard index"); !ok || err != nil {
		return err
	}
	if _, ok := raw["weight_map"]; !ok {
		return nil // some other *.index.json
	}
	var idx shardIndex
	if err := json.Unmarshal(raw["weight_map"], &idx.WeightMap); err != nil {
		x.s.Finding(x.finding("repo/malformed", inventory.Medium, err.Error(),
			"the shard index's weight_map is not a map of tensor names to file names: loaders fail on it",
			"re-save the checkpoint with save_pretrained, or reject it"))
		return nil
	}
	_ = json.Unmarshal(raw["metadata"], &idx.Metadata) // only total_size is used
	id := inventory.FileComponentID(inventory.KindModel, x.f.Path)
	base := strings.TrimSuffix(x.f.Name, ".index.json")
	props := map[string]string{PropTensors: strconv.Itoa(len(idx.WeightMap))}
	switch {
	case strings.HasSuffix(base, ".safetensors"):
		props[PropFormat] = "safetensors-sharded"
	case strings.HasSuffix(base, ".bin"):
		props[PropFormat] = "pytorch-sharded"
	default:
		props[PropFormat] = "sharded"
	}
	if n, ok := idx.Metadata["total_size"].(float64); ok && n >= 0 && n == float64(int64(n)) {
		props["total-size"] = strconv.FormatInt(int64(n), 10)
	}
	if x.repo != nil {
		props[PropPartOf] = x.repo.id
	}
	tensors := make([]string, 0, len(idx.WeightMap))
	for t := range idx.WeightMap {
		tensors = append(tensors, t)
	}
	slices.Sort(tensors)            // for stable evidence
	shards := map[string][]string{} // shard file → its first tensors, for evidence
	for _, t := range tensors {
		file := idx.WeightMap[t]
		if _, ok := shards[file]; !ok && len(shards) >= maxShards {
			x.s.Finding(x.finding(inventory.RuleScanLimit, inventory.High,
				fmt.Sprintf("more than %d shard files", maxShards),
				"the index names more shard files than the limit: the rest were not checked",
				"review the index by hand"))
			break
		}
		if len(shards[file]) < 3 {
			shards[file] = append(shards[file], t)
		}
	}
	files := make([]string, 0, len(shards))
	for file := range shards {
		files = append(files, file)
	}
	slices.Sort(files)
	props["shards"] = strconv.Itoa(len(files))
	dir := filepath.Dir(x.f.Path)
	comp := inventory.Component{
		ID: id, Kind: inventory.KindModel, Name: base,
		Locations:  []inventory.Location{{Path: x.f.Path}},
		Properties: props,
	}
	var missing []string
	for _, file := range files {
		if why := escapes(file); why != "" {
			x.s.Finding(inventory.Finding{
				Rule: "repo/shard-path", Severity: inventory.High, Component: id, Path: x.f.Path,
				Evidence:    fmt.Sprintf("weight_map names shard %q (%s), e.g. for tensor %q", file, why, first(shards[file])),
				Message:     "the index points a loader at a file outside the model's folder: loading reads it as weights",
				Remediation: "reject the checkpoint; shard names are plain file names beside the index",
			})
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(file))
		comp.Locations = append(comp.Locations, inventory.Location{Path: p})
		if x.f.Depth > 0 {
			continue // inside an archive: its siblings are not on disk
		}
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			missing = append(missing, file)
			continue
		}
		x.s.Component(inventory.Component{
			ID: inventory.FileComponentID(inventory.KindModel, p), Kind: inventory.KindModel, Name: path.Base(file),
			Locations:  []inventory.Location{{Path: p}},
			Properties: map[string]string{PropPartOf: id},
		})
	}
	x.s.Component(comp)
	if len(missing) > 0 {
		x.s.Finding(inventory.Finding{
			Rule: "repo/missing-shard", Severity: inventory.Medium, Component: id, Path: x.f.Path,
			Evidence:    fmt.Sprintf("%d of %d shard files missing: %s", len(missing), len(files), cutList(missing, 8)),
			Message:     "shard files the index names are not beside it: the checkpoint is incomplete, and whatever later appears under those names becomes part of the model",
			Remediation: "download the complete checkpoint from its source at a pinned revision",
		})
	}
	return nil
}

// escapes says why a shard name leaves the index's folder, or "".
func escapes(name string) string {
	switch {
	case name == "":
		return "empty"
	case strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) || len(name) > 1 && name[1] == ':':
		return "absolute"
	case strings.Contains(name, "://"):
		return "a URL"
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return "climbs out with .."
		}
	}
	return ""
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func cutList(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(" and %d more", len(s)-n)
}
