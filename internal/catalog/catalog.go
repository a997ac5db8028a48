// Package catalog lists chainvet's catalogers and analyzers: the one place
// where a new format or rule is switched on, with one line.
package catalog

import (
	"slices"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/catalog/aicode"
	"github.com/chainvet/chainvet/internal/catalog/archives"
	"github.com/chainvet/chainvet/internal/catalog/containers"
	"github.com/chainvet/chainvet/internal/catalog/datasets"
	catgguf "github.com/chainvet/chainvet/internal/catalog/gguf"
	"github.com/chainvet/chainvet/internal/catalog/gomod"
	"github.com/chainvet/chainvet/internal/catalog/keras"
	"github.com/chainvet/chainvet/internal/catalog/mcp"
	"github.com/chainvet/chainvet/internal/catalog/models"
	"github.com/chainvet/chainvet/internal/catalog/npm"
	"github.com/chainvet/chainvet/internal/catalog/onnx"
	"github.com/chainvet/chainvet/internal/catalog/pkgcode"
	"github.com/chainvet/chainvet/internal/catalog/python"
	"github.com/chainvet/chainvet/internal/catalog/repo"
	catsafetensors "github.com/chainvet/chainvet/internal/catalog/safetensors"
	"github.com/chainvet/chainvet/internal/catalog/secrets"
	"github.com/chainvet/chainvet/internal/catalog/templates"
	"github.com/chainvet/chainvet/internal/catalog/tensorflow"
	"github.com/chainvet/chainvet/internal/catalog/workflows"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
	"github.com/chainvet/chainvet/internal/modelfile/gguf"
	"github.com/chainvet/chainvet/internal/modelfile/pickle"
	"github.com/chainvet/chainvet/internal/modelfile/safetensors"
	"github.com/chainvet/chainvet/internal/rules/confusion"
	"github.com/chainvet/chainvet/internal/rules/hygiene"
	rulemodels "github.com/chainvet/chainvet/internal/rules/models"
	"github.com/chainvet/chainvet/internal/rules/typosquat"
)

// Config holds the limits the catalogers work within.
type Config struct {
	Pickle      pickle.Limits
	Archive     archive.Limits
	Safetensors safetensors.Limits
	GGUF        gguf.Limits
}

// DefaultConfig is the configuration chainvet scan starts from.
func DefaultConfig() Config {
	return Config{
		Pickle:      pickle.DefaultLimits,
		Archive:     archive.DefaultLimits,
		Safetensors: safetensors.DefaultLimits,
		GGUF:        gguf.DefaultLimits,
	}
}

// Catalogers returns every cataloger, in the order they see each file.
func Catalogers(cfg Config) []inventory.Cataloger {
	return []inventory.Cataloger{
		archives.Archives{Limits: cfg.Archive},
		models.Pickle{Limits: cfg.Pickle},
		models.Numpy{Limits: cfg.Pickle},
		catsafetensors.Safetensors{Limits: cfg.Safetensors},
		catgguf.GGUF{Limits: cfg.GGUF},
		keras.Keras{Archive: cfg.Archive},
		templates.Templates{},
		repo.New(repo.DefaultLimits),
		repo.Mar{Archive: cfg.Archive},
		repo.OCI{},
		mcp.Plugins{},
		workflows.CI{},
		containers.Dockerfile{},
		python.Cataloger{},
		npm.NPM{},
		gomod.Go{},
		aicode.References{},
		pkgcode.Pkgcode{},
		secrets.Secrets{},
		confusion.Indexes{},
		datasets.Files{},
		onnx.ONNX{},
		tensorflow.SavedModel{},
		tensorflow.TFLite{},
	}
}

// Analyzers returns every analyzer, in the order they run.
func Analyzers(cfg Config) []inventory.Analyzer {
	return []inventory.Analyzer{
		rulemodels.Format{},
		typosquat.Analyzer{},
		hygiene.Analyzer{},
	}
}

// Link adds the relations between components that no single cataloger
// sees: a model's card names its datasets, found elsewhere as components
// of their own. It also settles properties that merging joined: a service
// used with a key anywhere is authenticated.
func Link(r *inventory.Report) {
	ids := map[string]bool{}
	for _, c := range r.Components {
		ids[c.ID] = true
	}
	for i := range r.Components {
		c := &r.Components[i]
		if c.Kind == inventory.KindModel && c.Properties["datasets"] != "" {
			for _, d := range strings.Split(c.Properties["datasets"], ",") {
				id := "dataset:huggingface/" + strings.TrimSpace(d)
				if ids[id] && !slices.Contains(c.DependsOn, id) {
					c.DependsOn = append(c.DependsOn, id)
				}
			}
		}
		if a, ok := c.Properties["authenticated"]; ok && strings.Contains(a, ",") {
			c.Properties["authenticated"] = strconv.FormatBool(slices.Contains(strings.Split(a, ","), "true"))
		}
	}
}
