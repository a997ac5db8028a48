package render

import (
	"fmt"
	"io"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// benchReport has n findings spread over rules, severities and paths, half
// of them in archive members, and a component for every 100 findings.
func benchReport(n int) *inventory.Report {
	r := sampleReport()
	r.Findings = r.Findings[:0]
	r.Components = r.Components[:0]
	for i := range n {
		f := inventory.Finding{
			Rule:     [...]string{"pickle/dangerous-call", "pickle/unknown-import", "archive/crc-mismatch", "scan/limit"}[i%4],
			Severity: inventory.Severity(i % 5),
			Path:     fmt.Sprintf("models/m%05d.pt", i/100),
			Offset:   inventory.At(int64(i) * 7),
			Evidence: fmt.Sprintf("posix.system via STACK_GLOBAL at %#x, REDUCE at %#x", i*7, i*7+9),
			Message:  "The pickle calls a dangerous callable.",
		}
		if i%2 == 1 {
			f.Path += "!archive/data.pkl"
		}
		r.Findings = append(r.Findings, f)
		if i%100 == 0 {
			r.Components = append(r.Components, inventory.Component{
				ID: "model:" + f.Path, Kind: inventory.KindModel, Name: f.Path,
				Locations:  []inventory.Location{{Path: f.Path}},
				Properties: map[string]string{"format": "pytorch-zip", "framework": "pytorch"},
			})
		}
	}
	return r
}

func BenchmarkRender(b *testing.B) {
	r := benchReport(100_000)
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			rd, err := New(name, Options{Version: "1.0.0"})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := rd.Render(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
