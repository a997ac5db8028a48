// Package catalog lists chainvet's catalogers and analyzers: the one place
// where a new format or rule is switched on, with one line.
package catalog

import (
	"github.com/chainvet/chainvet/internal/catalog/archives"
	catgguf "github.com/chainvet/chainvet/internal/catalog/gguf"
	"github.com/chainvet/chainvet/internal/catalog/keras"
	"github.com/chainvet/chainvet/internal/catalog/models"
	"github.com/chainvet/chainvet/internal/catalog/onnx"
	"github.com/chainvet/chainvet/internal/catalog/repo"
	catsafetensors "github.com/chainvet/chainvet/internal/catalog/safetensors"
	"github.com/chainvet/chainvet/internal/catalog/templates"
	"github.com/chainvet/chainvet/internal/catalog/tensorflow"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
	"github.com/chainvet/chainvet/internal/modelfile/gguf"
	"github.com/chainvet/chainvet/internal/modelfile/pickle"
	"github.com/chainvet/chainvet/internal/modelfile/safetensors"
	rulemodels "github.com/chainvet/chainvet/internal/rules/models"
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
		repo.Repo{},
		repo.Mar{Archive: cfg.Archive},
		repo.OCI{},
		onnx.ONNX{},
		tensorflow.SavedModel{},
		tensorflow.TFLite{},
	}
}

// Analyzers returns every analyzer, in the order they run.
func Analyzers(cfg Config) []inventory.Analyzer {
	return []inventory.Analyzer{
		rulemodels.Format{},
	}
}
