package repo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/ipynb"
	"github.com/chainvet/chainvet/internal/modelfile/modelcard"
)

// python judges a .py file shipped beside weights.
func (x *cat) python() error {
	if !x.besideWeights() {
		return nil
	}
	x.s.Finding(x.finding("repo/script", inventory.Medium, "Python source "+x.f.Name,
		"Python code is shipped beside the model's weights: it runs if the model is loaded with trust_remote_code or the script is run",
		"review the code before running it or loading the model with trust_remote_code"))
	// Read one byte past the limit: pysource reports the cut.
	b := make([]byte, min(x.f.Size, int64(x.lim.Source.Bytes)+1))
	if _, err := x.f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", x.f.Path, err)
	}
	c := &code{s: x.s, path: x.f.Path, comp: x.comp(), lines: true, lim: x.lim.Source}
	return c.judge(x.ctx, b)
}

// script reports a shell or other script beside weights.
func (x *cat) script() {
	if !x.besideWeights() {
		return
	}
	first, _, _ := strings.Cut(string(x.f.Head[:min(len(x.f.Head), 120)]), "\n")
	x.s.Finding(x.finding("repo/script", inventory.Medium, fmt.Sprintf("script %s: %s", x.f.Name, strings.TrimSpace(first)),
		"a script is shipped beside the model's weights: it runs whatever it says if someone runs it",
		"read the script before running it"))
}

// A notebook is the part of nbformat 3 and 4 that holds code.
type notebook struct {
	Cells      []cell `json:"cells"`
	Worksheets []struct {
		Cells []cell `json:"cells"`
	} `json:"worksheets"`
}

type cell struct {
	Type   string          `json:"cell_type"`
	Source json.RawMessage `json:"source"`
	Input  json.RawMessage `json:"input"` // nbformat 3
}

// text is a cell's source: one string, or a list of lines.
func (c cell) text() string {
	raw := c.Source
	if len(raw) == 0 {
		raw = c.Input
	}
	t, _ := ipynb.Text(raw) // a malformed cell reads as empty
	return t
}

// notebook judges the code cells of a notebook beside weights, shell
// escapes (!cmd) and magics included.
func (x *cat) notebook() error {
	if !x.besideWeights() {
		return nil
	}
	var nb notebook
	if ok, err := x.decodeJSON(&nb, "notebook"); !ok || err != nil {
		return err
	}
	cells := nb.Cells
	for _, ws := range nb.Worksheets {
		cells = append(cells, ws.Cells...)
	}
	id := inventory.FileComponentID(inventory.KindNotebook, x.f.Path)
	props := map[string]string{}
	if x.repo != nil {
		props[PropPartOf] = x.repo.id
	}
	x.s.Component(inventory.Component{
		ID: id, Kind: inventory.KindNotebook, Name: x.f.Name,
		Locations: []inventory.Location{{Path: x.f.Path}}, Properties: props,
	})
	n := 0
	for i, c := range cells {
		if c.Type != "code" {
			continue
		}
		n++
		src := c.text()
		py, shell := splitMagics(src)
		for _, sh := range shell {
			x.s.Finding(inventory.Finding{
				Rule: "repo/code-exec", Severity: inventory.High, Component: id, Path: x.f.Path,
				Evidence:    fmt.Sprintf("cell %d line %d: %s", i+1, sh.line, sh.text),
				Message:     "the notebook runs a shell command when the cell runs",
				Remediation: "read the command before running the notebook; installs from notebooks pull unpinned packages",
			})
		}
		cc := &code{s: x.s, path: x.f.Path, comp: id, where: fmt.Sprintf("cell %d ", i+1), lim: x.lim.Source}
		if err := cc.judge(x.ctx, []byte(py)); err != nil {
			return err
		}
	}
	x.s.Finding(inventory.Finding{
		Rule: "repo/script", Severity: inventory.Medium, Component: id, Path: x.f.Path,
		Evidence:    fmt.Sprintf("notebook with %d code cells", n),
		Message:     "a notebook is shipped beside the model's weights: its cells run whatever they say",
		Remediation: "read the notebook's code before running it",
	})
	return nil
}

// A shellLine is a notebook line that IPython hands to a shell or a magic.
type shellLine struct {
	line int
	text string
}

// magics that run commands or code outside Python; other magics (%matplotlib,
// %timeit) are blanked out and not reported.
var shellMagics = []string{"%%bash", "%%sh", "%%script", "%%system", "%%cmd", "%%powershell", "%%perl", "%%ruby",
	"%system", "%sx", "%pip", "%conda", "%run", "%load", "%%writefile", "%env"}

// splitMagics separates IPython's shell escapes and magics from Python,
// keeping line numbers: such lines become blank in the Python returned.
func splitMagics(src string) (string, []shellLine) {
	lines := strings.Split(src, "\n")
	var shell []shellLine
	cellMagic := false
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if cellMagic {
			lines[i] = ""
			continue
		}
		body := t
		if _, rhs, ok := strings.Cut(t, "="); ok && strings.HasPrefix(strings.TrimSpace(rhs), "!") && !strings.ContainsAny(t[:strings.IndexByte(t, '=')], "([{'\"") {
			body = strings.TrimSpace(rhs) // x = !ls
		}
		switch {
		case strings.HasPrefix(body, "!"):
			shell = append(shell, shellLine{i + 1, cut(t, maxEvidence)})
			lines[i] = ""
		case strings.HasPrefix(t, "%"):
			for _, m := range shellMagics {
				if t == m || strings.HasPrefix(t, m+" ") {
					shell = append(shell, shellLine{i + 1, cut(t, maxEvidence)})
					cellMagic = strings.HasPrefix(m, "%%")
					break
				}
			}
			if i == 0 && strings.HasPrefix(t, "%%") {
				cellMagic = true // another cell magic: the body is not Python
			}
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n"), shell
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// native reports a program or shared library beside weights or inside a
// model archive.
func (x *cat) native(c content) {
	inModel := x.f.Component != "" || x.f.Depth > 0 && strings.HasSuffix(strings.ToLower(outerArchive(x.f.Path)), ".mar")
	if !inModel && (x.f.Depth > 0 || !x.besideWeights()) {
		return
	}
	where := "beside the model's weights"
	if x.f.Depth > 0 {
		where = "inside a model archive"
	}
	x.s.Finding(inventory.Finding{
		Rule: "repo/native-binary", Severity: inventory.High, Component: x.comp(), Path: x.f.Path, Offset: inventory.At(0),
		Evidence:    fmt.Sprintf("%s is %s", x.f.Name, c),
		Message:     "native code is shipped " + where + ": custom code or op libraries that load it run it with no sandbox",
		Remediation: "find out what loads this binary and why; do not load the model with code that does, unless you trust and can rebuild the binary",
	})
}

// outerArchive is the path of the archive a member path is in.
func outerArchive(p string) string {
	if i := strings.LastIndexByte(p, '!'); i >= 0 {
		return p[:i]
	}
	return ""
}

// lfs reports an LFS pointer: the file it stands for was never fetched.
// The pointer's oid is the sha256 the real file must have.
func (x *cat) lfs() {
	p, err := parseLFS(x.f.Head)
	ev := fmt.Sprintf("pointer to oid sha256:%s, %d bytes", p.oid, p.size)
	if err != nil {
		ev = "malformed pointer: " + err.Error()
	}
	comp := x.comp()
	if weightExts[ext(x.f.Name)] && x.f.Component == "" {
		comp = inventory.FileComponentID(inventory.KindModel, x.f.Path)
		c := inventory.Component{
			ID: comp, Kind: inventory.KindModel, Name: x.f.Name,
			Locations:  []inventory.Location{{Path: x.f.Path}},
			Properties: map[string]string{"lfs-pointer": "true"},
		}
		if x.repo != nil && !inShardedCheckpoint(x.f.Path) {
			c.Properties[PropPartOf] = x.repo.id
		}
		if err == nil {
			c.Digests = []inventory.Digest{{Algorithm: "sha256", Value: p.oid}}
			c.Properties["size"] = fmt.Sprint(p.size)
		}
		x.s.Component(c)
	}
	x.s.Finding(inventory.Finding{
		Rule: "repo/lfs-pointer", Severity: inventory.Medium, Component: comp, Path: x.f.Path, Offset: inventory.At(0),
		Evidence:    ev,
		Message:     "the file is a Git LFS pointer: the real file was not downloaded, so it was not scanned, and loaders fail or fetch it later",
		Remediation: "run git lfs pull (or download from the hub) and scan again; the real file must have the pointer's sha256",
	})
}

// mismatch reports a file whose content is not what its name promises.
func (x *cat) mismatch(c content) {
	e := ext(x.f.Name)
	sev := inventory.High
	x.s.Finding(inventory.Finding{
		Rule: "model/extension-mismatch", Severity: sev, Component: x.comp(), Path: x.f.Path, Offset: inventory.At(0),
		Evidence:    fmt.Sprintf("name ends %s; content is %s", e, c),
		Message:     fmt.Sprintf("the file's content is %s, not what %s promises: tools that choose a loader by extension are misled", c, e),
		Remediation: "reject the file, or rename it to what it is and vet it as that",
	})
}

// card reads a README's model-card front matter into the repository's
// component.
func (x *cat) card() error {
	if x.repo == nil && !x.besideWeights() {
		return nil // a project's README, not a model card
	}
	b, ok, err := x.readAll(int64(x.lim.Card.Bytes)+64<<10, "model card")
	if !ok || err != nil {
		return err
	}
	c, err := modelcard.Read(b, x.lim.Card)
	switch {
	case errors.Is(err, modelcard.ErrLimit):
		x.s.Finding(x.finding(inventory.RuleScanLimit, inventory.High, err.Error(),
			"the model card's front matter was not read to the end: its licence and lineage are unknown",
			"review the card by hand"))
		return nil
	case err != nil:
		// The card is documentation: loaders do not read it. A card two
		// readers disagree on still misleads whoever reads its licence.
		x.s.Finding(x.finding("repo/malformed", inventory.Low, err.Error(),
			"the model card's front matter is not YAML this scan can read: its licence, base model and datasets are unknown",
			"fix the front matter; the hub's own card validator shows the same error"))
		return nil
	case c == nil || x.repo == nil:
		return nil
	}
	props := map[string]string{}
	set := func(k string, v []string) {
		if len(v) > 0 {
			props[k] = strings.Join(v, ",")
		}
	}
	set(PropLicense, c.License)
	set(PropBaseModel, c.BaseModel)
	set(PropDatasets, c.Datasets)
	set("tags", c.Tags)
	set("language", c.Language)
	if c.PipelineTag != "" {
		props["pipeline-tag"] = c.PipelineTag
	}
	if c.LibraryName != "" {
		props[PropFramework] = c.LibraryName
	}
	x.s.Component(inventory.Component{ID: x.repo.id, Properties: props})
	return nil
}

// readMember reads all of an io.ReaderAt of size n, up to limit.
func readMember(ra io.ReaderAt, n, limit int64) ([]byte, bool, error) {
	if n > limit {
		return nil, false, nil
	}
	b := make([]byte, n)
	if _, err := ra.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, false, err
	}
	return b, true, nil
}
