// Package ipynb reads the parts of Jupyter notebooks (nbformat) that
// chainvet's catalogers share: the text fields that nbformat writes either
// as one string or as a list of lines.
package ipynb

import (
	"encoding/json"
	"errors"
	"strings"
)

// ErrText is returned for a text field that is neither a string nor a
// list of strings.
var ErrText = errors.New("ipynb: text is neither a string nor a list of strings")

// Text reads an nbformat text field (a cell's source, a stream output's
// text): one string, or a list of strings joined as they are (each line
// keeps its own newline). An absent or null field is empty.
func Text(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return "", ErrText
	}
	return strings.Join(lines, ""), nil
}
