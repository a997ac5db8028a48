package pkgcode

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pysource"
)

// MaxPthLines bounds the lines of a .pth file looked at: site.py reads
// every line, real files hold a handful.
const MaxPthLines = 10000

// pth judges a .pth file: site.py runs every line that starts with
// "import" followed by a space or tab, at every interpreter start.
func (j *judge) pth(ctx context.Context, data []byte) error {
	for n, line := range bytes.Split(data, []byte{'\n'}) {
		if n >= MaxPthLines {
			j.add(inventory.RuleScanLimit, inventory.High, n+1, fmt.Sprintf("more than %d lines", MaxPthLines),
				"the .pth file was not read to the end: it is not known to be clean", "review it by hand")
			return nil
		}
		line = bytes.TrimRight(line, "\r")
		if !bytes.HasPrefix(line, []byte("import ")) && !bytes.HasPrefix(line, []byte("import\t")) {
			continue
		}
		if err := j.pthLine(ctx, line, n+1); err != nil {
			return err
		}
	}
	return nil
}

// knownPth are the executable .pth lines of common tools' own modules:
// lowered when nothing else on the line runs code.
var knownPth = []string{"_distutils_hack", "_virtualenv", "__editable__", "coverage", "_pytest"}

func (j *judge) pthLine(ctx context.Context, line []byte, n int) error {
	res, err := pysource.Scan(ctx, line, pysource.Limits{Bytes: MaxFileBytes})
	if err != nil {
		return fmt.Errorf("scanning %s: %w", j.path, err)
	}
	ev := clip(string(line), 200)
	danger := res.Syntax != nil || res.Limit != ""
	for _, c := range res.Calls {
		name := c.Resolved
		if (evals[name] || decoders[lastName(name)] || hasPrefix(name, netPrefixes) ||
			hasPrefix(name, procPrefixes) || name == "__import__" && len(c.Args) > 0 && !c.Args[0].Literal) && c.Called {
			danger = true
		}
	}
	if danger {
		j.add(RulePthExec, inventory.Critical, n, ev,
			"the .pth line runs, decodes or fetches code at every Python start, before any program's own code",
			"remove the .pth file and the package that installed it; treat the environment as compromised")
		return nil
	}
	sev := inventory.High
	for _, k := range knownPth {
		if strings.Contains(string(line), k) {
			sev = inventory.Low
		}
	}
	j.add(RulePthExec, sev, n, ev,
		"the .pth line imports code at every Python start",
		"check which package installed the .pth file and that it needs to run at start-up")
	return nil
}
