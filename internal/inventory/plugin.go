package inventory

import (
	"context"
	"io"
)

// A Cataloger turns files into components. The lists of catalogers live in
// package catalog; a new format is one package and one line there.
//
// Parsing a hostile format meets its evidence on the way (an import in a
// pickle, a lying header): a cataloger reports that as findings through the
// Sink rather than have the file parsed a second time.
type Cataloger interface {
	// Name is stable, e.g. "models/pickle".
	Name() string
	// Wants reports whether the cataloger handles f. It looks at f.Name,
	// f.Head and f.Tail only, and does no I/O. Content decides: a name may
	// add suspicion but never hides a file from its format's cataloger.
	Wants(f *File) bool
	// Catalog reads f and reports what it holds to s. An error means f
	// could not be read to the end; the pipeline reports it as a finding.
	Catalog(ctx context.Context, f *File, s Sink) error
}

// A Sink takes what catalogers report about one file on disk and all the
// archive members within it. Its methods are safe to call only from the
// goroutine the pipeline called Catalog on.
type Sink interface {
	Component(Component)
	Finding(Finding)
	// Scan hands a member of a container back to the pipeline, which runs
	// every cataloger that wants it, as for a file on disk. It reports a
	// finding instead when the member is nested deeper than the limit.
	Scan(ctx context.Context, member *File)
}

// An Analyzer looks at the report the catalogers built and adds findings.
// Analyzers run after every file is catalogued, in the order listed.
type Analyzer interface {
	Name() string
	Analyze(ctx context.Context, r *Report) ([]Finding, error)
}

// A Renderer writes a report in one output format.
type Renderer interface {
	// Name is the value of -o that selects it, e.g. "json".
	Name() string
	Render(w io.Writer, r *Report) error
}
