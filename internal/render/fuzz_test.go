package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"testing"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/inventory"
)

// FuzzRender feeds hostile strings, as a scanned file can put them in a
// report, through every format. Renderers must not panic, JSON and SARIF
// must stay well-formed (SARIF valid against the schema, when present), and
// the table must write no control character but newline and no escape code.
func FuzzRender(f *testing.F) {
	for _, fd := range sampleReport().Findings {
		off := int64(-1)
		if fd.Offset != nil {
			off = *fd.Offset
		}
		f.Add(fd.Rule, fd.Path, fd.Evidence, fd.Message, int(fd.Severity), fd.Line, off)
	}
	// Without the schema the fuzzer still checks the SARIF is JSON.
	sch, err := loadSARIFSchema()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rule, path, evidence, msg string, sev, line int, off int64) {
		fd := inventory.Finding{
			Rule: rule, Severity: inventory.Severity(sev % 6), Path: path, Line: line,
			Evidence: evidence, Message: msg, Remediation: evidence,
		}
		if off >= 0 {
			fd.Offset = &off
		}
		r := sampleReport()
		r.Findings = append(r.Findings, fd)
		r.Components[0].Name = path
		r.Components[0].Properties[rule] = evidence
		r.Components[0].Locations[0].Path = path

		for _, name := range Names() {
			rd, _ := New(name, Options{Color: true, Version: msg})
			var buf bytes.Buffer
			err := rd.Render(&buf, r)
			if name == "json" && (fd.Severity < inventory.Info || fd.Severity > inventory.Critical) {
				if err == nil {
					t.Fatal("json: invalid severity written")
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			switch name {
			case "json", "sarif":
				if !json.Valid(buf.Bytes()) {
					t.Fatalf("%s: invalid JSON", name)
				}
				if name == "sarif" {
					checkGitHub(t, buf.Bytes())
				}
				if name == "sarif" && sch != nil {
					if err := validate(sch, buf.Bytes()); err != nil {
						t.Fatalf("sarif: %v", err)
					}
				}
			case "table":
				out := ansi.ReplaceAll(buf.Bytes(), nil)
				for i := 0; i < len(out); {
					c, n := utf8.DecodeRune(out[i:])
					if c == utf8.RuneError && n == 1 || c != '\n' && (c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0) {
						t.Fatalf("table: byte %d is %U in %q", i, c, out)
					}
					i += n
				}
			}
		}
	})
}
