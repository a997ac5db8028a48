// Package modelcard reads the YAML front matter of a model card (a
// repository's README.md): licence, base model, datasets, tags, pipeline
// and library.
//
// The parser reads the block-and-flow subset of YAML that cards use —
// mappings, lists, nested both ways, [a, b] and {k: v}, quoted and plain
// scalars, | and > block scalars, comments — and rejects the rest, and
// duplicate keys, with a SyntaxError: a card that two readers would read
// differently is reported, not guessed at. Nothing in the card is
// evaluated; anchors and tags are dropped, aliases kept as text.
package modelcard

import (
	"bytes"
	"errors"
	"fmt"
)

// Limits bound the parse.
type Limits struct {
	// Bytes is the largest front matter read; cards with long evaluation
	// tables (model-index) run to tens of KB.
	Bytes int
	// Depth bounds nesting of mappings and lists.
	Depth int
	// Nodes bounds the number of values.
	Nodes int
}

// DefaultLimits are generous for real cards.
var DefaultLimits = Limits{Bytes: 1 << 20, Depth: 64, Nodes: 200_000}

// ErrLimit is wrapped by errors that a limit caused.
var ErrLimit = errors.New("modelcard: limit reached")

// ErrUnterminated says the front matter has no closing "---" line.
var ErrUnterminated = errors.New("modelcard: front matter not closed by a --- line")

// FrontMatter returns the YAML between a document's opening "---" line
// and the next "---" (or "...") line, and the 1-based line the YAML starts
// on. ok is false when the document has no front matter.
func FrontMatter(doc []byte) (yaml []byte, line int, ok bool, err error) {
	doc = bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf"))
	first, rest, _ := bytes.Cut(doc, []byte("\n"))
	if string(bytes.TrimRight(first, " \t\r")) != "---" {
		return nil, 0, false, nil
	}
	off := 0
	for off <= len(rest) {
		l := rest[off:]
		end := bytes.IndexByte(l, '\n')
		if end < 0 {
			end = len(l)
		}
		if t := string(bytes.TrimRight(l[:end], " \t\r")); t == "---" || t == "..." {
			return rest[:off], 2, true, nil
		}
		off += end + 1
	}
	return nil, 2, true, ErrUnterminated
}

// A Card is what a model card's front matter says about the model.
type Card struct {
	License     []string // license, or license_name when license is "other"
	BaseModel   []string
	Datasets    []string
	Tags        []string
	Language    []string
	PipelineTag string
	LibraryName string
	// Root is the whole front matter, for keys Card does not name.
	Root *Node
}

// Read parses the front matter of doc. It returns nil and no error when
// doc has none.
func Read(doc []byte, lim Limits) (*Card, error) {
	lim = lim.withDefaults()
	y, line, ok, err := FrontMatter(doc)
	if !ok {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(y) > lim.Bytes {
		return nil, fmt.Errorf("front matter is %d bytes, more than %d: %w", len(y), lim.Bytes, ErrLimit)
	}
	root, err := parse(string(y), line, lim)
	if err != nil {
		return nil, err
	}
	if root.Kind != Map {
		return nil, &SyntaxError{Line: line, Msg: "front matter is not a mapping"}
	}
	c := &Card{
		License:   root.Get("license").Strings(),
		BaseModel: root.Get("base_model").Strings(),
		Datasets:  root.Get("datasets").Strings(),
		Tags:      root.Get("tags").Strings(),
		Language:  root.Get("language").Strings(),
		Root:      root,
	}
	if len(c.License) == 1 && c.License[0] == "other" {
		if name := root.Get("license_name").Strings(); len(name) == 1 {
			c.License = name
		}
	}
	if s := root.Get("pipeline_tag").Strings(); len(s) == 1 {
		c.PipelineTag = s[0]
	}
	if s := root.Get("library_name").Strings(); len(s) == 1 {
		c.LibraryName = s[0]
	}
	return c, nil
}

func (l Limits) withDefaults() Limits {
	if l.Bytes <= 0 {
		l.Bytes = DefaultLimits.Bytes
	}
	if l.Depth <= 0 {
		l.Depth = DefaultLimits.Depth
	}
	if l.Nodes <= 0 {
		l.Nodes = DefaultLimits.Nodes
	}
	return l
}
