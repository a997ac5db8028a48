// Package archives catalogs containers — zip, tar, gzip, bzip2, xz, lzma,
// zlib, 7z — by handing each member back to the pipeline as a file of its
// own, so that a model is found however it is packed.
//
// A zip laid out as a PyTorch archive or a NumPy .npz is a model: it becomes
// one component, its pickles are judged as parts of it, and its raw tensor
// storages are never read.
package archives

import (
	"context"
	"path"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/archive"
	"github.com/chainvet/chainvet/internal/modelfile/torch"
)

// Archives opens containers.
type Archives struct {
	Limits archive.Limits
}

// Name implements inventory.Cataloger.
func (Archives) Name() string { return "archives" }

// Wants implements inventory.Cataloger.
func (Archives) Wants(f *inventory.File) bool { return archive.Detect(f) != archive.KindNone }

// Catalog implements inventory.Cataloger. A file that is two kinds of
// container at once (a gzip with a zip's directory at its end) is opened
// as each.
func (a Archives) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	kinds := archive.Kinds(f)
	for i, k := range kinds {
		if i > 0 && k == archive.KindZip && kinds[0] == archive.KindTar && a.zipIsTarMember(ctx, f) {
			continue
		}
		var err error
		switch k {
		case archive.KindZip:
			err = a.zip(ctx, f, s)
		case archive.KindTar:
			err = a.tar(ctx, f, s)
		default:
			err = archive.Expand(ctx, f, k, a.Limits, s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// zip opens a zip archive; one laid out as a model becomes a component.
func (a Archives) zip(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	z, err := archive.OpenZip(ctx, f, a.Limits)
	if err != nil {
		return err
	}
	names := make([]string, len(z.Entries))
	for i, e := range z.Entries {
		names[i] = e.Name
	}
	var storage func(string) bool
	comp := f.Component
	if l, ok := torch.Zip(names); ok {
		comp = model(s, f, l.Format, "pytorch", "pickle")
		storage = l.Storage
	} else if isNPZ(names) {
		comp = model(s, f, "numpy-npz", "numpy", "") // object arrays in it add "pickle"
	}
	var skip func(*archive.Entry) bool
	if storage != nil {
		skip = func(e *archive.Entry) bool { return storage(e.Name) }
	}
	return archive.ExpandZip(ctx, f, z, a.Limits, ownedSink{s, comp}, skip)
}

// zipIsTarMember reports whether the zip whose directory ends a tar is one
// of the tar's members, as when a model archive is the last file of a
// tarball. The member is opened as part of the tar; reading the whole tar
// as a zip would only report the tar's headers as data before the zip. A
// zip appended after the tar's members is another matter: a polyglot, and
// opened as one.
func (a Archives) zipIsTarMember(ctx context.Context, f *inventory.File) bool {
	z, err := archive.OpenZip(ctx, f, a.Limits)
	if err != nil {
		return false
	}
	entries, _ := archive.TarEntries(ctx, f, a.Limits)
	for _, e := range entries {
		if z.Start >= e.Offset && z.Start < e.Offset+e.Size {
			return true
		}
	}
	return false
}

// tar opens a tar archive; one in PyTorch's oldest layout becomes a model
// whose members package models reads as that layout.
func (a Archives) tar(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	entries, err := archive.TarEntries(ctx, f, a.Limits)
	if err != nil {
		return err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	if torch.Tar(names) {
		s = ownedSink{s, model(s, f, torch.FormatTar, "pytorch", "pickle")}
	}
	return archive.Expand(ctx, f, archive.KindTar, a.Limits, s)
}

// ownedSink attributes findings to the component of the archive they are in.
type ownedSink struct {
	inventory.Sink
	comp string
}

func (o ownedSink) Finding(f inventory.Finding) {
	if o.comp != "" {
		f.Component = o.comp
	}
	o.Sink.Finding(f)
}

// Scan hands a member over as part of the archive's component.
func (o ownedSink) Scan(ctx context.Context, m *inventory.File) {
	if o.comp != "" {
		m.Component = o.comp
	}
	o.Sink.Scan(ctx, m)
}

// model reports the archive f as a model component and returns its ID.
func model(s inventory.Sink, f *inventory.File, format, framework, serialization string) string {
	id := inventory.FileComponentID(inventory.KindModel, f.Path)
	props := map[string]string{"format": format, "framework": framework}
	if serialization != "" {
		props["serialization"] = serialization
	}
	s.Component(inventory.Component{
		ID: id, Kind: inventory.KindModel, Name: f.Name,
		Locations:  []inventory.Location{{Path: f.Path}},
		Properties: props,
	})
	return id
}

// isNPZ reports whether a zip's members are all NumPy arrays, as np.savez
// writes them.
func isNPZ(names []string) bool {
	n := 0
	for _, name := range names {
		if path.Ext(name) != ".npy" {
			return false
		}
		n++
	}
	return n > 0
}
