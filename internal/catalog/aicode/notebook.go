package aicode

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pysource"
	"github.com/package-url/packageurl-go"
)

// maxCells bounds the cells read from one notebook; real ones have
// hundreds at most.
const maxCells = 20_000

// RuleMalformed is reported for a notebook that is not valid nbformat
// JSON: what its cells refer to is missing from the inventory.
const RuleMalformed = "bom/malformed"

type nbFile struct {
	Cells []struct {
		CellType string          `json:"cell_type"`
		Source   json.RawMessage `json:"source"`
	} `json:"cells"`
}

// cellSource reads a cell's source: a string or a list of strings.
func cellSource(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return "", fmt.Errorf("source is neither a string nor a list of strings")
	}
	return strings.Join(lines, ""), nil
}

// notebook reads the code cells of an .ipynb as one Python source.
// Shell (!) and magic (%) lines are blanked before tokenizing, keeping
// line numbers; pip installs among them become package components.
func notebook(ctx context.Context, path string, src []byte, r *refs, s inventory.Sink) error {
	var nb nbFile
	err := json.Unmarshal(src, &nb)
	if err == nil && len(nb.Cells) > maxCells {
		err = fmt.Errorf("%d cells, more than the limit of %d", len(nb.Cells), maxCells)
	}
	var code strings.Builder
	type span struct{ cell, first int } // cell index (1-based) and its first line in code
	var spans []span
	line := 1
	for i, c := range nb.Cells {
		if err != nil {
			break
		}
		if c.CellType != "code" {
			continue
		}
		var body string
		if body, err = cellSource(c.Source); err != nil {
			err = fmt.Errorf("cell %d: %w", i+1, err)
			break
		}
		spans = append(spans, span{i + 1, line})
		lines := strings.Split(body, "\n")
		for j, l := range lines {
			t := strings.TrimSpace(l)
			if strings.HasPrefix(t, "!") || strings.HasPrefix(t, "%") {
				pipInstall(t, inventory.Location{Path: fmt.Sprintf("%s#cell-%d", path, i+1), Line: j + 1}, r)
				l = ""
			}
			code.WriteString(l)
			code.WriteByte('\n')
		}
		line += len(lines)
		// A cell is a fresh statement: close nothing across cells.
	}
	if err != nil {
		s.Finding(inventory.Finding{
			Rule: RuleMalformed, Severity: inventory.Low, Path: path, Evidence: err.Error(),
			Message:     "a notebook could not be parsed; models, datasets and services its code refers to may be missing from the inventory",
			Remediation: "check the notebook opens in Jupyter; re-save it",
		})
		return nil
	}
	loc := func(l int) inventory.Location {
		for k := len(spans) - 1; k >= 0; k-- {
			if l >= spans[k].first {
				return inventory.Location{Path: fmt.Sprintf("%s#cell-%d", path, spans[k].cell), Line: l - spans[k].first + 1}
			}
		}
		return inventory.Location{Path: path}
	}
	b := []byte(code.String())
	res, err := pysource.Scan(ctx, b, pysource.DefaultLimits)
	if err != nil {
		return err
	}
	limitFinding(s, path, res.Limit)
	python(res, b, loc, r)
	return nil
}

// pipSpec is one requirement on a pip command line: name, extras, and a
// version specifier.
var pipSpec = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._ -]*\])?\s*((?:[=<>!~]=?|===)\s*[^;\s]+)?$`)

var pep503 = regexp.MustCompile(`[-_.]+`)

// pipInstall makes package components of "!pip install a b==1" and
// "%pip install …" lines.
func pipInstall(line string, loc inventory.Location, r *refs) {
	f := strings.Fields(strings.TrimLeft(line, "!%"))
	i := 0
	for i < len(f) && (f[i] == "python" || f[i] == "python3" || f[i] == "-m" || f[i] == "uv") {
		i++
	}
	if i+1 >= len(f) || (f[i] != "pip" && f[i] != "pip3") || f[i+1] != "install" {
		return
	}
	args := f[i+2:]
	for k := 0; k < len(args); k++ {
		a := strings.Trim(args[k], `"'`)
		if strings.HasPrefix(a, "-") {
			// Options taking a value skip it: -r file, -i URL, -c file.
			switch a {
			case "-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target":
				k++
			}
			continue
		}
		m := pipSpec.FindStringSubmatch(a)
		if m == nil {
			continue
		}
		name := strings.ToLower(pep503.ReplaceAllString(m[1], "-"))
		props := map[string]string{"ecosystem": "pypi", "source": "notebook-install", "pinned": "false", "manifest": strings.SplitN(loc.Path, "#", 2)[0]}
		if m[2] != "" {
			props["extras"] = strings.Trim(m[2], "[]")
		}
		version := ""
		if v, ok := strings.CutPrefix(m[3], "=="); ok && !strings.ContainsAny(v, "*") {
			version = strings.TrimSpace(v)
			props["pinned"] = "true"
		} else if m[3] != "" {
			props["version-range"] = m[3]
		}
		p := packageurl.NewPackageURL(packageurl.TypePyPi, "", name, version, nil, "").ToString()
		r.add(inventory.Component{ID: p, PURL: p, Kind: inventory.KindPackage, Name: name, Version: version,
			Dependency: inventory.Direct, Properties: props}, loc)
	}
}
