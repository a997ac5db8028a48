// Package render turns a Report into bytes: table, json, sarif, and the
// BOM formats CycloneDX (JSON, XML) and SPDX (JSON).
//
// Each format is one file and one entry in the list New reads. A new format
// implements inventory.Renderer, is deterministic (the same Report gives the
// same bytes) and treats every string in the Report as hostile: paths and
// evidence come from the files scanned.
package render

import (
	"errors"
	"fmt"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Options configure a renderer. Formats ignore the options they have no use for.
type Options struct {
	// Color turns on ANSI colour in the table. The CLI sets it only when
	// standard output is a terminal and NO_COLOR is unset.
	Color bool
	// Version is chainvet's version, written into SARIF's tool.driver. When
	// empty, the report's own Tool.Version is used.
	Version string
}

// formats is the list of renderers, in the order Names reports them.
var formats = []struct {
	name string
	make func(Options) inventory.Renderer
}{
	{"table", func(o Options) inventory.Renderer { return &tableFormat{opt: o} }},
	{"json", func(o Options) inventory.Renderer { return &jsonFormat{} }},
	{"sarif", func(o Options) inventory.Renderer { return &sarifFormat{opt: o} }},
	{"cyclonedx-json", func(o Options) inventory.Renderer { return newCycloneDX(o, false) }},
	{"cyclonedx-xml", func(o Options) inventory.Renderer { return newCycloneDX(o, true) }},
	{"spdx-json", func(o Options) inventory.Renderer { return newSPDX(o) }},
}

// Names lists the values New accepts.
func Names() []string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.name
	}
	return names
}

// New returns the renderer of the named format.
func New(name string, opt Options) (inventory.Renderer, error) {
	for _, f := range formats {
		if f.name == name {
			return f.make(opt), nil
		}
	}
	return nil, fmt.Errorf("unknown output format %q (want one of %s)", name, strings.Join(Names(), ", "))
}

// errNilReport is returned by every renderer given a nil report: rendering
// nothing as an empty report would tell the reader a scan found nothing.
var errNilReport = errors.New("render: nil report")
