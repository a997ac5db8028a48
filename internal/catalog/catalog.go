// Package catalog lists chainvet's catalogers and analyzers: the one place
// where a new format or rule is switched on, with one line.
package catalog

import (
	"github.com/chainvet/chainvet/internal/catalog/archives"
	"github.com/chainvet/chainvet/internal/catalog/models"
	"github.com/chainvet/chainvet/internal/catalog/onnx"
	"github.com/chainvet/chainvet/internal/catalog/tensorflow"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
	"github.com/chainvet/chainvet/internal/modelfile/pickle"
	rulemodels "github.com/chainvet/chainvet/internal/rules/models"
)

// Config holds the limits the catalogers work within.
type Config struct {
	Pickle  pickle.Limits
	Archive archive.Limits
}

// DefaultConfig is the configuration chainvet scan starts from.
func DefaultConfig() Config {
	return Config{Pickle: pickle.DefaultLimits, Archive: archive.DefaultLimits}
}

// Catalogers returns every cataloger, in the order they see each file.
func Catalogers(cfg Config) []inventory.Cataloger {
	return []inventory.Cataloger{
		archives.Archives{Limits: cfg.Archive},
		models.Pickle{Limits: cfg.Pickle},
		models.Numpy{Limits: cfg.Pickle},
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
