package secrets

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/ipynb"
)

// Bounds on a notebook's structure; real notebooks have hundreds of cells
// and a few outputs each.
const (
	maxCells   = 20_000
	maxOutputs = 100_000 // over all cells
)

// nbFile is the part of nbformat 4 that holds text a secret can be in.
// Text fields are a string or a list of strings.
type nbFile struct {
	Cells []struct {
		CellType string          `json:"cell_type"`
		Source   json.RawMessage `json:"source"`
		Outputs  []struct {
			OutputType string                     `json:"output_type"`
			Text       json.RawMessage            `json:"text"`
			Data       map[string]json.RawMessage `json:"data"`
			Evalue     string                     `json:"evalue"`
			Traceback  []string                   `json:"traceback"`
		} `json:"outputs"`
	} `json:"cells"`
}

// textMIME says whether an output's data of this type is text a person
// could have printed a key into; images and other base64 payloads are not
// scanned as text.
func textMIME(t string) bool {
	return strings.HasPrefix(t, "text/") || strings.HasSuffix(t, "json") || strings.HasSuffix(t, "javascript")
}

// notebook scans an .ipynb: each cell's decoded source, each code cell's
// outputs (stream text, text data, errors), and then the raw JSON, for
// secrets outside cells (metadata) or in a notebook that does not decode.
// A secret found in a cell is not reported again from the raw JSON.
func notebook(ctx context.Context, path string, src []byte, s *capped) error {
	seen := map[string]bool{}
	cellErr := cells(ctx, src, func(m match, loc location, w where) {
		seen[m.fp] = true
		s.Finding(m.finding(path, loc, w))
	}, s.truncated)
	if err := ctx.Err(); err != nil {
		return err
	}
	if cellErr != nil {
		s.Finding(inventory.Finding{
			Rule: RuleMalformed, Severity: inventory.Low, Path: path, Evidence: cellErr.Error(),
			Message:     "a notebook could not be decoded; it was scanned as plain text, which misses keys split by JSON escapes",
			Remediation: "check the notebook opens in Jupyter and re-save it, then scan again",
		})
	}
	loc := newLocator()
	ms := scanText(src)
	if len(ms) >= maxMatches {
		s.truncated()
	}
	for _, m := range ms {
		if seen[m.fp] {
			continue
		}
		seen[m.fp] = true
		s.Finding(m.finding(path, loc.advance(src, 0, int64(m.start)), where{}))
	}
	return nil
}

// cells decodes a notebook and scans the text of its cells. It reports an
// error for a notebook that is not nbformat JSON, after scanning the cells
// that decoded.
func cells(ctx context.Context, src []byte, emit func(match, location, where), truncated func()) error {
	var nb nbFile
	if err := json.Unmarshal(src, &nb); err != nil {
		return fmt.Errorf("not notebook JSON: %w", err)
	}
	if len(nb.Cells) > maxCells {
		return fmt.Errorf("%d cells, more than the limit of %d", len(nb.Cells), maxCells)
	}
	scan := func(text string, w where) {
		b := []byte(text)
		loc := newLocator()
		ms := scanText(b)
		if len(ms) >= maxMatches {
			truncated()
		}
		for _, m := range ms {
			emit(m, loc.advance(b, 0, int64(m.start)), w)
		}
	}
	outputs := 0
	for i, c := range nb.Cells {
		if i&0xff == 0 && ctx.Err() != nil {
			return nil // the caller reports the cancellation
		}
		body, err := ipynb.Text(c.Source)
		if err != nil {
			return fmt.Errorf("cell %d: source: %w", i+1, err)
		}
		scan(body, where{cell: i + 1})
		if outputs += len(c.Outputs); outputs > maxOutputs {
			return fmt.Errorf("more than %d outputs", maxOutputs)
		}
		for j, o := range c.Outputs {
			w := where{cell: i + 1, output: true}
			text, err := ipynb.Text(o.Text)
			if err != nil {
				return fmt.Errorf("cell %d: output %d: %w", i+1, j+1, err)
			}
			scan(text, w)
			for _, mime := range slices.Sorted(maps.Keys(o.Data)) {
				raw := o.Data[mime]
				if !textMIME(mime) {
					continue
				}
				if t, err := ipynb.Text(raw); err == nil {
					scan(t, w)
				} else {
					// JSON data of an application/json output: scan it as text.
					scan(string(raw), w)
				}
			}
			scan(o.Evalue, w)
			scan(strings.Join(o.Traceback, "\n"), w)
		}
	}
	return nil
}
