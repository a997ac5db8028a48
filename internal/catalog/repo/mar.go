package repo

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
)

// marManifest is the path of a TorchServe archive's manifest.
const marManifest = "MAR-INF/MANIFEST.json"

// Mar catalogs TorchServe model archives (.mar): zips with a
// MAR-INF/MANIFEST.json naming the model, its serialized weights, its
// Python model file and the handler TorchServe imports to serve it.
//
// The archives cataloger opens the zip as well and hands every member to
// the pipeline, so the serialized model is judged by its own cataloger;
// Mar judges the Python, which TorchServe runs.
type Mar struct {
	Limits  Limits
	Archive archive.Limits
}

// Name implements inventory.Cataloger.
func (Mar) Name() string { return "models/torchserve" }

// Wants implements inventory.Cataloger: zips named .mar, or whose
// directory (in the tail, or the head of a small file) names the manifest.
func (Mar) Wants(f *inventory.File) bool {
	if !slices.Contains(archive.Kinds(f), archive.KindZip) {
		return false
	}
	m := []byte(marManifest)
	return ext(f.Name) == ".mar" || bytes.Contains(f.Tail, m) || bytes.Contains(f.Head, m)
}

// marFile is the part of MANIFEST.json chainvet reads.
type marFile struct {
	Runtime string `json:"runtime"`
	Model   struct {
		ModelName        string `json:"modelName"`
		ModelVersion     string `json:"modelVersion"`
		SerializedFile   string `json:"serializedFile"`
		Handler          string `json:"handler"`
		ModelFile        string `json:"modelFile"`
		RequirementsFile string `json:"requirementsFile"`
		ConfigFile       string `json:"configFile"`
	} `json:"model"`
	ArchiverVersion string `json:"archiverVersion"`
}

// Catalog implements inventory.Cataloger.
func (m Mar) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	lim := m.Limits.withDefaults()
	// Anomalies of the zip itself are the archives cataloger's to report.
	z, err := archive.OpenZip(ctx, f, m.Archive)
	if err != nil {
		return err
	}
	id := inventory.FileComponentID(inventory.KindModel, f.Path)
	comp := inventory.Component{
		ID: id, Kind: inventory.KindModel, Name: f.Name,
		Locations:  []inventory.Location{{Path: f.Path}},
		Properties: map[string]string{PropFormat: "torchserve-mar", PropFramework: "pytorch"},
	}
	bad := func(evidence, message string) {
		s.Finding(inventory.Finding{
			Rule: "repo/malformed", Severity: inventory.Medium, Component: id, Path: f.Path,
			Evidence: evidence, Message: message,
			Remediation: "re-create the archive with torch-model-archiver, or reject it",
		})
	}
	entries := z.Lookup(marManifest)
	if len(entries) == 0 {
		s.Component(comp)
		bad("no "+marManifest, "the .mar has no manifest: TorchServe cannot say what it runs, and neither can this scan")
		return nil
	}
	b, err := openMember(ctx, z, entries[len(entries)-1], lim.JSON)
	if err != nil {
		s.Component(comp)
		if errors.Is(err, errTooBig) || errors.Is(err, archive.ErrUnreadable) {
			bad(err.Error(), "the manifest cannot be read")
			return nil
		}
		return err
	}
	var mf marFile
	if err := json.Unmarshal(b, &mf); err != nil {
		s.Component(comp)
		bad(err.Error(), "the manifest is not valid JSON: TorchServe refuses the archive or reads it differently")
		return nil
	}
	comp.Name = cmp.Or(mf.Model.ModelName, f.Name)
	comp.Version = mf.Model.ModelVersion
	if mf.Model.Handler != "" {
		comp.Properties["handler"] = mf.Model.Handler
	}
	if mf.Runtime != "" {
		comp.Properties["runtime"] = mf.Runtime
	}
	s.Component(comp)

	member := func(name string) *archive.Entry {
		if es := z.Lookup(name); len(es) > 0 {
			return es[len(es)-1]
		}
		return nil
	}
	if sf := mf.Model.SerializedFile; sf != "" {
		if member(sf) == nil {
			bad("serializedFile "+sf+" is not in the archive", "the manifest names weights the archive does not hold")
		} else {
			p := f.Path + "!" + sf
			s.Component(inventory.Component{
				ID: inventory.FileComponentID(inventory.KindModel, p), Kind: inventory.KindModel, Name: sf,
				Locations: []inventory.Location{{Path: p}}, Properties: map[string]string{PropPartOf: id},
			})
		}
	}
	// The handler is a module of the archive (handler.py, or module:function)
	// or one of TorchServe's own (image_classifier, ...).
	handlerFile := ""
	if h := mf.Model.Handler; h != "" {
		mod, _, _ := strings.Cut(h, ":")
		for _, cand := range []string{mod, mod + ".py"} {
			if strings.HasSuffix(cand, ".py") && member(cand) != nil {
				handlerFile = cand
				break
			}
		}
		if handlerFile != "" {
			s.Finding(inventory.Finding{
				Rule: "repo/script", Severity: inventory.Medium, Component: id, Path: f.Path + "!" + handlerFile,
				Evidence:    "handler " + h,
				Message:     "the archive ships its own handler: TorchServe imports and runs it for every request",
				Remediation: "review the handler's code; prefer TorchServe's built-in handlers",
			})
		} else if strings.HasSuffix(mod, ".py") {
			bad("handler "+h+" is not in the archive", "the manifest names a handler file the archive does not hold")
		}
	}
	judged := 0
	for _, e := range z.Entries {
		if e.IsDir() || !strings.HasSuffix(strings.ToLower(e.Name), ".py") {
			continue
		}
		if judged >= lim.Members {
			s.Finding(inventory.Finding{
				Rule: inventory.RuleScanLimit, Severity: inventory.High, Component: id, Path: f.Path,
				Evidence:    fmt.Sprintf("more than %d Python members", lim.Members),
				Message:     "the rest of the archive's Python code was not analysed: it is not known to be clean",
				Remediation: "review the archive by hand, or raise the limit",
			})
			break
		}
		judged++
		src, err := openMember(ctx, z, e, int64(lim.Source.Bytes))
		p := f.Path + "!" + e.Member
		if err != nil {
			if !errors.Is(err, errTooBig) && !errors.Is(err, archive.ErrUnreadable) {
				return err
			}
			s.Finding(inventory.Finding{
				Rule: inventory.RuleScanLimit, Severity: inventory.High, Component: id, Path: p,
				Evidence: err.Error(), Message: "this Python member was not analysed: it is not known to be clean",
				Remediation: "review it by hand",
			})
			continue
		}
		note := ""
		switch e.Name {
		case handlerFile:
			note = " (the handler: TorchServe runs it)"
		case mf.Model.ModelFile:
			note = " (the model file: TorchServe imports it to build the model)"
		}
		c := &code{s: s, path: p, comp: id, lines: true, lim: lim.Source, note: note}
		if err := c.judge(ctx, src); err != nil {
			return err
		}
	}
	return nil
}

var errTooBig = errors.New("member larger than the limit")

// openMember reads a zip member whole, up to limit bytes.
func openMember(ctx context.Context, z *archive.Zip, e *archive.Entry, limit int64) ([]byte, error) {
	if e.Size > limit {
		return nil, fmt.Errorf("%s: %d bytes: %w", e.Name, e.Size, errTooBig)
	}
	ra, n, release, err := z.Open(ctx, e)
	if err != nil {
		return nil, err
	}
	defer release()
	b, ok, err := readMember(ra, n, limit)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: %d bytes: %w", e.Name, n, errTooBig)
	}
	return b, nil
}
