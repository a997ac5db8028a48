package render

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/chainvet/chainvet/internal/inventory"
)

// jsonFormat writes the report as the chainvet/report/v1 document: the Report
// itself, indented by two spaces, with a trailing newline. It adds and
// removes nothing, so that the JSON is the one place every field can be read.
type jsonFormat struct{}

// Name is "json".
func (*jsonFormat) Name() string { return "json" }

// Render writes r to w.
func (*jsonFormat) Render(w io.Writer, r *inventory.Report) error {
	if r == nil {
		return errNilReport
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("json: encoding report: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("json: %w", err)
	}
	return nil
}
