package aicode

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/ipynb"
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
		if body, err = ipynb.Text(c.Source); err != nil {
			err = fmt.Errorf("cell %d: %w", i+1, err)
			break
		}
		spans = append(spans, span{i + 1, line})
		lines := strings.Split(body, "\n")
		for j, l := range lines {
			t := strings.TrimSpace(l)
			if strings.HasPrefix(t, "!") || strings.HasPrefix(t, "%") {
				pipInstall(t, inventory.Location{Path: fmt.Sprintf("%s#cell-%d", path, i+1), Line: j + 1}, r)
				installPins(t, s, inventory.Finding{Path: path, Cell: i + 1, Line: j + 1, Column: len(l) - len(strings.TrimLeft(l, " \t")) + 1})
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
	hubs := python(res, b, loc, r)
	at := func(f *inventory.Finding, off, line int) {
		l := loc(line)
		f.Path, f.Line, f.Column = path, l.Line, column(b, off)
		for k := len(spans) - 1; k >= 0; k-- {
			if line >= spans[k].first {
				f.Cell = spans[k].cell
				break
			}
		}
	}
	(&checker{res: res, src: b, at: at, s: s}).check(hubs)
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

// pinnedVCS is a VCS or archive URL pinned to a commit: pkg @ git+https://…@<sha>.
var pinnedVCS = regexp.MustCompile(`@[0-9a-f]{40}(#.*)?$`)

// installPins reports the requirements of a notebook's "!pip install",
// "%pip install", "!uv pip install" or "!conda install" line that are not
// pinned to one version (code/notebook-pip-unpinned): medium for names,
// ranges, URLs and VCS links without a commit; low for requirement files,
// which are vetted where they are. Local paths are the project's own.
// where holds the finding's path, cell, line and column.
func installPins(line string, s inventory.Sink, where inventory.Finding) {
	f := strings.Fields(strings.TrimLeft(line, "!%"))
	i := 0
	for i < len(f) && (f[i] == "python" || f[i] == "python3" || f[i] == "-m" || f[i] == "uv" ||
		f[i] == "{sys.executable}" || f[i] == "$sys.executable" || f[i] == "-q" || f[i] == "--quiet") {
		i++
	}
	if i+1 >= len(f) || f[i+1] != "install" {
		return
	}
	conda := false
	switch f[i] {
	case "pip", "pip3":
	case "conda", "mamba", "micromamba":
		conda = true
	default:
		return
	}
	var loose, files []string
	args := f[i+2:]
	for k := 0; k < len(args); k++ {
		a := strings.Trim(args[k], `"'`)
		if strings.HasPrefix(a, "-") {
			opt, val, hasVal := strings.Cut(a, "=")
			switch opt {
			case "-r", "--requirement":
				if !hasVal && k+1 < len(args) {
					k++
					val = strings.Trim(args[k], `"'`)
				}
				files = append(files, val)
			case "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target",
				"--prefix", "--root", "-n", "--name", "-p", "--channel", "--src":
				if !hasVal {
					k++
				}
			case "-e", "--editable":
				if !hasVal && k+1 < len(args) {
					k++
					val = strings.Trim(args[k], `"'`)
				}
				if !localPath(val) && !pinnedVCS.MatchString(val) {
					loose = append(loose, val)
				}
			}
			continue
		}
		switch {
		case localPath(a):
		case strings.Contains(a, "://") || strings.HasPrefix(a, "git+"):
			if !pinnedVCS.MatchString(a) {
				loose = append(loose, a)
			}
		case conda:
			// conda pins with name==version or name=version=build; a
			// single "=" matches every version starting so.
			name, rest, _ := strings.Cut(a, "=")
			if !strings.Contains(rest, "=") || strings.ContainsAny(rest, "*<>,|") || name == "" {
				loose = append(loose, a)
			}
		default:
			m := pipSpec.FindStringSubmatch(a)
			if m == nil || !strings.HasPrefix(m[3], "==") || strings.ContainsAny(m[3], "*,") || strings.HasPrefix(m[3], "===") {
				loose = append(loose, a)
			}
		}
	}
	switch {
	case len(loose) > 0:
		where.Severity = inventory.Medium
		where.Message = fmt.Sprintf("the notebook installs %s without pinning an exact version: each run may install a different release, or a hijacked one", strings.Join(loose, ", "))
		where.Remediation = "pin every requirement to the version you tested: %pip install name==X.Y.Z (VCS links to a commit: git+https://…@<40-hex sha>), or install from a requirements file with == pins and --require-hashes"
	case len(files) > 0:
		where.Severity = inventory.Low
		where.Message = fmt.Sprintf("the notebook installs from %s: its pins are vetted where the file is, not here", strings.Join(files, ", "))
		where.Remediation = fmt.Sprintf("make sure %s pins every requirement with == (and hashes); scan it with chainvet", strings.Join(files, ", "))
	default:
		return
	}
	where.Rule = RulePipUnpinned
	where.Evidence = evidence([]byte(strings.TrimSpace(line)), 0, len(line))
	s.Finding(where)
}

// localPath says whether an install argument is a path on disk.
func localPath(a string) bool {
	return a == "." || strings.HasPrefix(a, "./") || strings.HasPrefix(a, "../") || strings.HasPrefix(a, "/") ||
		strings.HasPrefix(a, "~") || strings.HasPrefix(a, "file:") || strings.HasSuffix(a, ".whl") && !strings.Contains(a, "://")
}
