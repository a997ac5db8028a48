package datasets

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"gopkg.in/yaml.v3"
)

// maxOuts bounds the outputs read from one .dvc file.
const maxOuts = 1000

// dvcDoc is the part of a .dvc file read: its outputs and, for
// dvc import-url, where they came from.
type dvcDoc struct {
	Outs []struct {
		Path   string `yaml:"path"`
		MD5    string `yaml:"md5"`
		Size   int64  `yaml:"size"`
		NFiles int    `yaml:"nfiles"`
		Remote string `yaml:"remote"`
	} `yaml:"outs"`
	Deps []struct {
		Path string `yaml:"path"`
	} `yaml:"deps"`
}

var md5RE = regexp.MustCompile(`^[0-9a-f]{32}(\.dir)?$`)

// dvc reads the outputs a .dvc file tracks. Each output becomes the
// dataset component of its path in the tree, so it merges with what the
// data file's own cataloging found when the data is checked out.
func dvc(f *inventory.File, s inventory.Sink) error {
	b, ok, err := readSmall(f, maxDVC, s)
	if !ok {
		return err
	}
	var doc dvcDoc
	if err := yaml.Unmarshal(b, &doc); err != nil {
		malformed(s, f.Path, 0, err, "DVC file")
		return nil
	}
	if len(doc.Outs) == 0 || len(doc.Outs) > maxOuts {
		malformed(s, f.Path, 0, fmt.Errorf("%d outs", len(doc.Outs)), "DVC file")
		return nil
	}
	dir := path.Dir(strings.ReplaceAll(f.Path, "\\", "/"))
	source := ""
	if len(doc.Deps) == 1 {
		if u, err := url.Parse(doc.Deps[0].Path); err == nil && u.Scheme != "" && u.Host != "" {
			u.User, u.RawQuery, u.Fragment = nil, "", "" // never a credential
			source = u.String()
		}
	}
	for _, o := range doc.Outs {
		p := path.Clean(o.Path)
		if o.Path == "" || path.IsAbs(p) || strings.HasPrefix(p, "../") {
			malformed(s, f.Path, 0, fmt.Errorf("out path %q is outside the folder of the .dvc file", o.Path), "DVC file")
			continue
		}
		full := path.Join(dir, p)
		c := inventory.Component{ID: inventory.FileComponentID(inventory.KindDataset, full), Kind: inventory.KindDataset,
			Name: path.Base(full), Locations: []inventory.Location{{Path: f.Path}},
			Properties: map[string]string{"manifest": f.Path, "source": "dvc"}}
		switch {
		case !md5RE.MatchString(o.MD5):
			malformed(s, f.Path, 0, fmt.Errorf("out %q: md5 %q is not 32 hex digits", o.Path, o.MD5), "DVC file")
		case strings.HasSuffix(o.MD5, ".dir"):
			// The md5 of a directory's listing, not of bytes: not a digest.
			c.Properties["dvc-md5"] = o.MD5
		default:
			c.Digests = []inventory.Digest{{Algorithm: "md5", Value: o.MD5}}
		}
		if o.Size > 0 {
			c.Properties["size"] = fmt.Sprint(o.Size)
		}
		if o.NFiles > 0 {
			c.Properties["files"] = fmt.Sprint(o.NFiles)
		}
		if o.Remote != "" {
			c.Properties["remote"] = o.Remote
		}
		if source != "" {
			c.Properties["source-url"] = source
		}
		s.Component(c)
	}
	return nil
}
