package tensorflow

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/tflite"
	"github.com/chainvet/chainvet/internal/modelfile/tfsaved"
)

// bundledCustomOps are custom ops that TFLite's own op resolver registers:
// the runtime ships their kernels, so they load no code of the model's.
var bundledCustomOps = map[string]bool{
	"TFLite_Detection_PostProcess": true, "Mfcc": true, "AudioSpectrogram": true,
}

// flexPrefix names a Flex op: a TensorFlow op that the select-TF-ops
// delegate runs with TensorFlow's own kernel.
const flexPrefix = "Flex"

// TFLite catalogs TensorFlow Lite flatbuffers.
type TFLite struct {
	Limits tflite.Limits
}

// Name implements inventory.Cataloger.
func (TFLite) Name() string { return "models/tflite" }

// Wants implements inventory.Cataloger: the TFL3 identifier, or a .tflite
// name, so that a broken one is reported.
func (TFLite) Wants(f *inventory.File) bool {
	return tflite.Is(f.Head) || strings.EqualFold(path.Ext(f.Name), ".tflite")
}

// Catalog implements inventory.Cataloger.
func (c TFLite) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	m, err := tflite.Parse(ctx, f, f.Size, c.Limits)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r := newReporter(s, f, "tflite", f.Name)
	props := map[string]string{"format": "tflite", "framework": "tensorflow-lite"}
	if m.Description != "" {
		props["producer"] = m.Description
	}
	if len(m.Operators) > 0 || m.Subgraphs > 0 {
		props["parameters"] = strconv.FormatUint(m.Parameters, 10)
		props["tensors"] = strconv.Itoa(m.Tensors)
		props["operators"] = strconv.Itoa(len(m.Operators))
	}
	if len(m.DTypes) > 0 {
		props["dtype"] = strings.Join(m.DTypes, ",")
	}
	r.component(props)
	switch {
	case err == nil:
	case errors.Is(err, tflite.ErrLimit):
		r.finding(inventory.RuleScanLimit, inventory.High, 0, err.Error(),
			"a limit cut the scan of this TFLite model short: it is not known to be clean",
			"inspect the model by hand, or reject it")
	case errors.Is(err, tflite.ErrMalformed):
		r.finding(ruleMalformed, inventory.Medium, 0, err.Error(),
			"the TFLite flatbuffer is malformed: interpreters and scanners may disagree on it",
			"re-convert the model with the TFLite converter, or reject it")
	default:
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	for _, op := range m.Operators {
		if op.IsCustom() {
			r.customOp(op)
		}
	}
	return nil
}

// customOp judges one custom operator code.
func (r *reporter) customOp(op tflite.OperatorCode) {
	name := op.Custom
	ev := fmt.Sprintf("custom op %q (operator code at offset %d)", name, op.Offset)
	if tf, ok := strings.CutPrefix(name, flexPrefix); ok && tf != "" {
		switch {
		case pythonOps[tf]:
			r.finding(RulePythonOp, inventory.Critical, op.Offset, ev,
				"a Flex op runs TensorFlow's "+tf+" kernel, which calls back into Python",
				"do not load this model")
			return
		case ioOps[tf] != "":
			r.finding(RuleIOOp, inventory.High, op.Offset, ev,
				"a Flex op runs TensorFlow's "+tf+" kernel, which "+ioOps[tf],
				"find out why the model needs "+tf+"; reject it unless that is expected")
			return
		case tfsaved.Known(tf):
			r.finding(RuleTFLiteOp, inventory.Info, op.Offset, ev,
				"a Flex op: the interpreter needs the select-TensorFlow-ops delegate to run "+tf,
				"nothing to do unless the model must run without the Flex delegate")
			return
		}
	}
	if bundledCustomOps[name] {
		r.finding(RuleTFLiteOp, inventory.Info, op.Offset, ev,
			"a custom op whose kernel TFLite's own op resolver provides",
			"nothing to do")
		return
	}
	r.finding(RuleTFLiteOp, inventory.Medium, op.Offset, ev,
		"a custom op: the application must register a native kernel for it before the model runs",
		"find out which library implements "+name+" and whether you trust it")
}
