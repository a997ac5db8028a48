// Package templates checks standalone Jinja templates — the chat templates
// model repositories ship as chat_template.jinja — for the constructs that
// template injection turns into code execution, without rendering them.
//
// Templates inside GGUF files and tokenizer_config.json are checked by the
// catalogers of those formats.
package templates

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/jinja"
)

// exts are the names Jinja templates go by. A template is text with no
// magic bytes, so here the name selects; the content must still be text.
var exts = map[string]bool{".jinja": true, ".jinja2": true, ".j2": true}

// Templates checks template files.
type Templates struct {
	Limits jinja.Limits
}

// Name implements inventory.Cataloger.
func (Templates) Name() string { return "models/chat-template" }

// Wants implements inventory.Cataloger: files named as Jinja templates
// whose head is text. (chat_template.json is JSON, and package repo
// decodes it before checking the template in it.)
func (Templates) Wants(f *inventory.File) bool {
	if !exts[strings.ToLower(path.Ext(f.Name))] {
		return false
	}
	return utf8.Valid(trimRune(f.Head)) && !strings.ContainsRune(string(f.Head), 0)
}

// trimRune drops a rune the head may have cut in two.
func trimRune(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if utf8.Valid(b) {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

// Catalog implements inventory.Cataloger.
func (t Templates) Catalog(ctx context.Context, f *inventory.File, s inventory.Sink) error {
	lim := t.Limits
	if lim.Bytes == 0 {
		lim.Bytes = jinja.DefaultLimits.Bytes
	}
	// Read one byte past the limit, so that Check sees the template is too
	// large and reports the limit.
	n := min(f.Size, int64(lim.Bytes)+1)
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	for _, p := range jinja.Check(string(b), lim) {
		s.Finding(inventory.Finding{
			Rule: p.Rule, Severity: inventory.Severity(p.Severity), Component: f.Component, Path: f.Path,
			Offset: inventory.At(int64(p.Offset)), Line: p.Line, Evidence: p.Evidence,
			Message: p.Message, Remediation: p.Remediation,
		})
	}
	return nil
}
