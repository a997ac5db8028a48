// Package aicode finds the models, datasets and AI services that code and
// configuration refer to but do not hold: from_pretrained and load_dataset
// calls, SDK clients, Ollama Modelfiles and model-server command lines.
//
// It reads Python with the bounded tokenizer in pysource and never imports
// or runs it; only literal arguments are believed. Notebooks are read as
// the concatenation of their code cells, so imports in one cell resolve
// names in the next, and locations name the cell: nb.ipynb#cell-3, line 2.
//
// From the same tokenization it reports the code/ rules (code.go, taint.go):
// loaders that run code (torch.load without weights_only, pickle and its
// kin, torch.hub.load, Keras without safe mode, trust_remote_code), hub
// loads not pinned to a commit, agent tools that hand a model a shell, a
// model's output reaching eval, a shell or SQL within one function, and a
// notebook's unpinned pip installs. Findings carry line and byte column,
// and for a notebook the cell, with lines counted within it.
package aicode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/chainvet/chainvet/internal/catalog/containers"
	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pysource"
)

// Limits on what is read, each a file size in bytes.
const (
	// maxPython matches pysource's own bound: the biggest hand-written
	// modules are a few hundred KB.
	maxPython = 8 << 20
	// maxNotebook allows for embedded outputs (images are base64 in the
	// JSON); only code cells are tokenized.
	maxNotebook = 32 << 20
	// maxText bounds Modelfiles, shell scripts, Dockerfiles and compose
	// files: real ones are a few KB.
	maxText = 1 << 20
)

// References is the cataloger of code references, "code/ai-references".
type References struct{}

func (References) Name() string { return "code/ai-references" }

type fileType int

const (
	notWanted fileType = iota
	pyFile
	notebookFile
	modelfileFile
	launchFile
)

func classify(f *inventory.File) fileType {
	if !text(f.Head) {
		return notWanted
	}
	name := strings.ToLower(f.Name)
	head := bytes.TrimLeft(f.Head, " \t\r\n\ufeff")
	switch {
	case strings.HasSuffix(name, ".py") || strings.HasSuffix(name, ".pyw"),
		bytes.HasPrefix(f.Head, []byte("#!")) && bytes.Contains(firstLine(f.Head), []byte("python")):
		return pyFile
	case strings.HasSuffix(name, ".ipynb") && bytes.HasPrefix(head, []byte("{")):
		return notebookFile
	case name == "modelfile" || strings.HasPrefix(name, "modelfile.") || strings.HasSuffix(name, ".modelfile"):
		return modelfileFile
	case strings.HasSuffix(name, ".sh") || strings.HasSuffix(name, ".bash"),
		bytes.HasPrefix(f.Head, []byte("#!")) && bytes.Contains(firstLine(f.Head), []byte("sh")),
		containers.IsDockerfileName(name),
		name == "containerfile",
		(strings.HasPrefix(name, "docker-compose") || strings.HasPrefix(name, "compose")) &&
			(strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")),
		name == ".env" || strings.HasSuffix(name, ".env"):
		return launchFile
	}
	return notWanted
}

func firstLine(b []byte) []byte {
	l, _, _ := bytes.Cut(b, []byte("\n"))
	return l
}

// text says whether head looks like text: no NUL byte.
func text(head []byte) bool { return bytes.IndexByte(head, 0) < 0 }

// Wants takes Python sources (by name, or a python shebang), notebooks
// that start as JSON, Modelfiles, and the scripts, Dockerfiles and compose
// files that launch model servers; all must be text.
func (References) Wants(f *inventory.File) bool { return classify(f) != notWanted }

func (References) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	t := classify(f)
	limit := map[fileType]int64{pyFile: maxPython, notebookFile: maxNotebook, modelfileFile: maxText, launchFile: maxText}[t]
	if f.Size > limit {
		s.Finding(inventory.Finding{
			Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: f.Path,
			Evidence:    fmt.Sprintf("%d bytes", f.Size),
			Message:     fmt.Sprintf("file is %d bytes, more than the %d read for code references; what it refers to is not in the inventory", f.Size, limit),
			Remediation: "review the file by hand",
		})
		return nil
	}
	src := f.Head
	if !f.Whole() {
		src = make([]byte, f.Size)
		if n, err := f.ReadAt(src, 0); err != nil && !(errors.Is(err, io.EOF) && n == len(src)) {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	r := newRefs()
	switch t {
	case pyFile:
		if !mentionsAny(src) {
			return nil // most source files name no model, dataset or AI service
		}
		res, err := pysource.Scan(ctx, src, pysource.DefaultLimits)
		if err != nil {
			return err
		}
		limitFinding(s, f.Path, res.Limit)
		hubs := python(res, src, func(line int) inventory.Location { return inventory.Location{Path: f.Path, Line: line} }, r)
		(&checker{res: res, src: src, at: filePlace(f.Path, src), s: s}).check(hubs)
	case notebookFile:
		if err := notebook(ctx, f.Path, src, r, s); err != nil {
			return err
		}
	case modelfileFile:
		modelfile(f.Path, src, r)
	case launchFile:
		launch(f.Path, src, r)
	}
	r.emit(s)
	return nil
}

func limitFinding(s inventory.Sink, path, limit string) {
	if limit == "" {
		return
	}
	s.Finding(inventory.Finding{
		Rule: inventory.RuleScanLimit, Severity: inventory.High, Path: path, Evidence: limit,
		Message:     "the scan for code references was cut short: " + limit,
		Remediation: "review the file by hand",
	})
}

// pythonNeedles are words one of which every Python file this cataloger
// reports anything from must contain: the loader calls it recognises, the
// modules of the SDKs it knows, the environment lookups it reads key
// names from, and the words of the code rules (the modules whose loaders
// unpickle, the keywords they judge, the model-output expressions). A
// file with none is not tokenised: on a large tree most files are skipped
// by a few passes of bytes.Contains.
var pythonNeedles = func() [][]byte {
	words := []string{
		"from_pretrained", "hf_hub_download", "snapshot_download", "pipeline", "SentenceTransformer",
		"CrossEncoder", "load_dataset", "hub", "vllm", "LLM", "ollama", "litellm", "boto3",
		"huggingface_hub", "InferenceClient", "langchain", "llama_index", "environ", "getenv",
		// The code rules.
		"torch", "pickle", "Pickle", "dill", "joblib", "shelve", "allow_pickle", "keras", "trust_remote_code",
		"allow_dangerous", "load_local", "choices", "content[", "output_text", "generations",
		"generate_content", "invoke(", "completion", "send_message",
	}
	for _, m := range sdkModules {
		top, _, _ := strings.Cut(m.module, ".")
		words = append(words, top)
	}
	out := make([][]byte, len(words))
	for i, w := range words {
		out[i] = []byte(w)
	}
	return out
}()

// needleIndex maps the first two bytes of the needles to the needles
// that start so (group numbers from 1; 0 is none), so that mentionsAny
// reads each byte of a file once instead of once per needle. Read-only
// after initialisation.
var needleIndex, needleGroups = func() (*[1 << 16]uint8, [][][]byte) {
	var t [1 << 16]uint8
	groups := [][][]byte{nil}
	for _, n := range pythonNeedles {
		k := uint16(n[0])<<8 | uint16(n[1])
		if t[k] == 0 {
			t[k] = uint8(len(groups))
			groups = append(groups, nil)
		}
		groups[t[k]] = append(groups[t[k]], n)
	}
	return &t, groups
}()

// mentionsAny reports whether src holds one of pythonNeedles.
func mentionsAny(src []byte) bool {
	for i := 0; i+1 < len(src); i++ {
		g := needleIndex[uint16(src[i])<<8|uint16(src[i+1])]
		if g == 0 {
			continue
		}
		for _, n := range needleGroups[g] {
			if bytes.HasPrefix(src[i:], n) {
				return true
			}
		}
	}
	return false
}
