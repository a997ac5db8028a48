// Package keras catalogs Keras models — Keras 3 .keras archives and their
// unzipped folder form, legacy .h5 models and weight files — and reports
// what loading them would run, import or fetch.
//
// A .keras archive is recognised by its zip directory holding config.json
// beside metadata.json or model.weights.h5; package archives still hands
// its members to the pipeline, and a weights file among them, which has no
// configuration, adds nothing. An HDF5 file is a Keras model when its root
// group has Keras's attributes (model_config, keras_version, backend,
// layer_names); other HDF5 files are data, and pass unremarked unless
// their root group cannot be read.
package keras

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
	"github.com/chainvet/chainvet/internal/modelfile/hdf5"
	"github.com/chainvet/chainvet/internal/modelfile/keras"
)

// Property keys and values set on Keras model components.
const (
	PropFormat           = "format"
	PropFramework        = "framework"
	PropArchitecture     = "architecture"
	PropFrameworkVersion = "framework-version"
	PropBackend          = "backend"
	PropDType            = "dtype"

	FormatKeras    = "keras"    // Keras 3 archive, or its folder form
	FormatH5       = "keras-h5" // legacy HDF5 model or weights
	FormatHDF5     = "hdf5"     // an HDF5 file whose root group could not be read
	FrameworkKeras = "keras"
)

// Names in a Keras 3 archive.
const (
	configName   = "config.json"
	metadataName = "metadata.json"
	weightsName  = "model.weights.h5"
)

// h5Exts are names HDF5 files take. They let a file whose signature lies
// past the head (after a user block of 4 KiB or more) be opened.
var h5Exts = map[string]bool{".h5": true, ".hdf5": true, ".he5": true, ".hdf": true, ".keras": true}

// Keras catalogs Keras models.
type Keras struct {
	Limits  keras.Limits
	HDF5    hdf5.Limits
	Archive archive.Limits
}

// Name implements inventory.Cataloger.
func (Keras) Name() string { return "models/keras" }

// Wants implements inventory.Cataloger: zips whose directory holds a
// config.json, HDF5 files by signature (or by name when a user block may
// push the signature past the head), and config.json files that read as a
// Keras configuration.
func (Keras) Wants(f *inventory.File) bool {
	switch {
	case kerasZip(f):
		return true
	case hdf5.Is(f.Head):
		return true
	case h5Exts[strings.ToLower(path.Ext(f.Name))] && f.Size > inventory.HeadSize && !bytes.HasPrefix(f.Head, []byte("PK")):
		return true
	case f.Name == configName && !topMember(f) && keras.LooksLikeConfig(f.Head):
		return true
	}
	return false
}

// topMember reports whether f sits at the top of an archive, where a zip
// holding it as a Keras archive has already read it.
func topMember(f *inventory.File) bool {
	i := strings.LastIndexByte(f.Path, '!')
	return f.Depth > 0 && i >= 0 && !strings.Contains(f.Path[i+1:], "/")
}

// kerasZip reports whether f is a zip whose first local header or central
// directory names config.json, or a zip named .keras.
func kerasZip(f *inventory.File) bool {
	h := f.Head
	if len(h) >= 30 && bytes.HasPrefix(h, []byte("PK\x03\x04")) {
		n := int(binary.LittleEndian.Uint16(h[26:]))
		if 30+n <= len(h) {
			switch string(h[30 : 30+n]) {
			case configName, metadataName, weightsName:
				return true
			}
		}
	}
	view := f.Tail
	switch {
	case f.Whole():
		view = f.Head
	case int64(len(f.Head)+len(f.Tail)) == f.Size && bytes.Contains(f.Tail, []byte("PK\x05\x06")):
		// The directory of a small zip may start in the head.
		view = append(bytes.Clone(f.Head), f.Tail...)
	}
	if !bytes.Contains(view, []byte("PK\x05\x06")) {
		return false // no end of central directory: not a zip
	}
	if strings.EqualFold(path.Ext(f.Name), ".keras") {
		return true // whatever the directory's size
	}
	for off := 0; ; {
		i := bytes.Index(view[off:], []byte("PK\x01\x02"))
		if i < 0 {
			return false
		}
		at := off + i
		if at+46 <= len(view) {
			n := int(binary.LittleEndian.Uint16(view[at+28:]))
			if at+46+n <= len(view) && string(view[at+46:at+46+n]) == configName {
				return true
			}
		}
		off = at + 4
	}
}

// Catalog implements inventory.Cataloger.
func (k Keras) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	switch {
	case kerasZip(f):
		return k.archive(ctx, f, s)
	case f.Name == configName && !hdf5.Is(f.Head):
		return k.folder(ctx, f, s)
	}
	return k.h5(ctx, f, s)
}

// component reports the model component for the file or folder at p and
// returns its ID: f's own component when f is part of another model.
func component(s inventory.Sink, f *inventory.File, p string, props map[string]string) string {
	if f.Component != "" {
		s.Component(inventory.Component{ID: f.Component, Properties: props})
		return f.Component
	}
	id := inventory.FileComponentID(inventory.KindModel, p)
	s.Component(inventory.Component{
		ID: id, Kind: inventory.KindModel, Name: path.Base(p),
		Locations:  []inventory.Location{{Path: p}},
		Properties: props,
	})
	return id
}

// identity turns what a configuration says into properties.
func identity(props map[string]string, m *keras.Model) {
	if m == nil {
		return
	}
	if a := m.Architecture(); a != "" {
		props[PropArchitecture] = a
	}
	if len(m.DTypes) > 0 {
		props[PropDType] = strings.Join(m.DTypes, ",")
	}
}

// archive catalogs a Keras 3 archive.
func (k Keras) archive(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	z, err := archive.OpenZip(ctx, f, k.Archive)
	if err != nil {
		return err
	}
	// Anomalies of the zip itself are package archives' to report.
	configs := z.Lookup(configName)
	isKeras := len(configs) > 0 && (len(z.Lookup(metadataName)) > 0 || len(z.Lookup(weightsName)) > 0 ||
		strings.EqualFold(path.Ext(f.Name), ".keras"))
	if !isKeras {
		return nil
	}
	props := map[string]string{PropFormat: FormatKeras, PropFramework: FrameworkKeras}
	if md := z.Lookup(metadataName); len(md) > 0 {
		b, _, err := k.member(ctx, z, md[len(md)-1])
		if err != nil {
			return err
		}
		if m, err := keras.ReadMetadata(b, k.Limits); err == nil && m.KerasVersion != "" {
			props[PropFrameworkVersion] = m.KerasVersion
		}
	}
	var model *keras.Model
	type checked struct {
		p   string
		res *keras.Result
	}
	var results []checked
	// Every copy is checked; Python's zipfile, and so Keras, reads the last.
	for _, e := range configs {
		p := f.Path + "!" + e.Member
		b, why, err := k.member(ctx, z, e)
		if err != nil {
			return err
		}
		res := &keras.Result{}
		switch {
		case why != "":
			res.Problems = []keras.Problem{{Rule: keras.RuleLimit, Severity: inventory.High, Offset: -1, Evidence: why,
				Message:     "config.json was not read: the model is not known to be clean",
				Remediation: "raise the limit if the model is legitimate, or reject it"}}
		case b == nil:
			continue // unreadable: package archives says why
		default:
			if res, err = keras.CheckJSON(ctx, b, k.Limits); err != nil {
				return err
			}
			if res.Model != nil && res.Model.ClassName == "" {
				res.Problems = append(res.Problems, keras.Problem{Rule: keras.RuleMalformed, Severity: inventory.Medium, Offset: -1,
					Evidence:    "config.json has no top-level class_name",
					Message:     "config.json is not a Keras model configuration: what Keras makes of it cannot be told",
					Remediation: "re-save the model with Keras, or reject it"})
			}
			model = res.Model
		}
		results = append(results, checked{p, res})
	}
	identity(props, model)
	id := component(s, f, f.Path, props)
	for _, c := range results {
		for _, p := range c.res.Problems {
			s.Finding(finding(id, c.p, "", 0, p))
		}
	}
	return nil
}

// member reads a small member of z whole. A member over the configuration
// limit is not read: why says so. Unreadable members give nil bytes.
func (k Keras) member(ctx context.Context, z *archive.Zip, e *archive.Entry) ([]byte, string, error) {
	lim := k.Limits.ConfigBytes
	if lim <= 0 {
		lim = keras.DefaultLimits.ConfigBytes
	}
	if e.Size > lim {
		return nil, fmt.Sprintf("%s: %d bytes > limit %d", e.Name, e.Size, lim), nil
	}
	ra, n, release, err := z.Open(ctx, e)
	defer release()
	if errors.Is(err, archive.ErrUnreadable) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	if n > lim {
		return nil, fmt.Sprintf("%s inflates past %d bytes", e.Name, lim), nil
	}
	b, err := io.ReadAll(io.NewSectionReader(ra, 0, n))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", e.Name, err)
	}
	return b, "", nil
}

// folder catalogs the config.json of a Keras 3 model saved unzipped: the
// folder is the model.
func (k Keras) folder(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	lim := k.Limits.ConfigBytes
	if lim <= 0 {
		lim = keras.DefaultLimits.ConfigBytes
	}
	var res *keras.Result
	if f.Size > lim {
		res = &keras.Result{Problems: []keras.Problem{{Rule: keras.RuleLimit, Severity: inventory.High, Offset: -1,
			Evidence:    fmt.Sprintf("config.json of %d bytes > limit %d", f.Size, lim),
			Message:     "config.json was not read: the model is not known to be clean",
			Remediation: "raise the limit if the model is legitimate, or reject it"}}}
	} else {
		b := make([]byte, f.Size)
		if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		var err error
		if res, err = keras.CheckJSON(ctx, b, k.Limits); err != nil {
			return err
		}
		if res.Model != nil && res.Model.ClassName == "" {
			return nil // JSON, but not a Keras configuration
		}
	}
	props := map[string]string{PropFormat: FormatKeras, PropFramework: FrameworkKeras}
	identity(props, res.Model)
	dir := filepath.Dir(f.Path)
	if f.Depth > 0 {
		dir = path.Dir(f.Path) // members are named with slashes
	}
	id := component(s, f, dir, props)
	for _, p := range res.Problems {
		s.Finding(finding(id, f.Path, "", 0, p))
	}
	return nil
}

// h5Markers are the root attributes Keras writes: a full model has
// model_config, a weights file layer_names, both the versions.
var h5Markers = []string{"model_config", "training_config", "keras_version", "backend", "layer_names"}

// h5 catalogs an HDF5 file.
func (k Keras) h5(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	attrs, err := hdf5.RootAttributes(ctx, f, f.Size, k.HDF5)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, hdf5.ErrNotHDF5) {
		return nil // named like HDF5, but not HDF5: other catalogers' business
	}
	byName := map[string]hdf5.Attribute{}
	for _, a := range attrs {
		byName[a.Name] = a
	}
	isKeras := false
	for _, m := range h5Markers {
		if _, ok := byName[m]; ok {
			isKeras = true
		}
	}
	if !isKeras && err == nil {
		return nil // an HDF5 data file, or the weights of a .keras archive
	}
	props := map[string]string{PropFormat: FormatH5, PropFramework: FrameworkKeras}
	if !isKeras {
		props = map[string]string{PropFormat: FormatHDF5}
	}
	if v, ok := byName["keras_version"].Value.(string); ok && v != "" {
		props[PropFrameworkVersion] = v
	}
	if v, ok := byName["backend"].Value.(string); ok && v != "" {
		props[PropBackend] = v
	}
	type checked struct {
		attr hdf5.Attribute
		res  *keras.Result
	}
	var results []checked
	for _, name := range []string{"model_config", "training_config"} {
		a, ok := byName[name]
		if !ok {
			continue
		}
		var res *keras.Result
		switch v := a.Value.(type) {
		case string:
			if res, err = keras.CheckString(ctx, v, k.Limits); err != nil {
				return err
			}
		default:
			res = &keras.Result{Problems: []keras.Problem{{Rule: keras.RuleMalformed, Severity: inventory.Medium, Offset: -1,
				Evidence:    fmt.Sprintf("%s is a %T, not a string", name, v),
				Message:     "the model's configuration attribute is not text: what Keras makes of it cannot be told",
				Remediation: "re-save the model with Keras, or reject it"}}}
		}
		if name == "model_config" {
			identity(props, res.Model)
		}
		results = append(results, checked{a, res})
	}
	id := component(s, f, f.Path, props)
	for _, c := range results {
		for _, p := range c.res.Problems {
			s.Finding(finding(id, f.Path, c.attr.Name, c.attr.Offset, p))
		}
	}
	if err != nil {
		s.Finding(h5Error(id, f.Path, err))
	}
	return nil
}

// h5Error turns a failure to read the root group into a finding: the file
// is not known to be clean.
func h5Error(id, p string, err error) inventory.Finding {
	fd := inventory.Finding{
		Rule: keras.RuleMalformed, Severity: inventory.Medium, Component: id, Path: p, Evidence: err.Error(),
		Message:     "the root group's attributes could not all be read, and Keras keeps the model's configuration there: the file is not known to be clean",
		Remediation: "re-save the model with Keras (or h5py), or reject it",
	}
	switch {
	case errors.Is(err, hdf5.ErrLimit):
		fd.Rule, fd.Severity = inventory.RuleScanLimit, inventory.High
		fd.Message = "a limit cut the reading of the root group short: the file is not known to be clean"
		fd.Remediation = "raise the limit if the file is legitimate, or reject it"
	case errors.Is(err, hdf5.ErrUnsupported):
		fd.Message = "the root group uses an HDF5 feature this scanner does not read: its attributes, where Keras keeps the model's configuration, were not all checked"
	}
	return fd
}

// finding turns a problem in a configuration into a finding on path p.
// For an HDF5 attribute, attr names it and base is the file offset of its
// value.
func finding(id, p, attr string, base int64, pr keras.Problem) inventory.Finding {
	where := pr.Pointer
	if where == "" {
		where = "(document)"
	}
	if attr != "" {
		where = attr + " " + where
	}
	fd := inventory.Finding{
		Rule: pr.Rule, Severity: pr.Severity, Component: id, Path: p,
		Evidence: where + ": " + pr.Evidence, Message: pr.Message, Remediation: pr.Remediation,
	}
	switch {
	case pr.Offset >= 0 && attr == "":
		fd.Offset, fd.Line = inventory.At(pr.Offset), pr.Line
	case pr.Offset >= 0 && base >= 0:
		fd.Offset = inventory.At(base + pr.Offset)
	}
	return fd
}
