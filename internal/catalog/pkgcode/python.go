package pkgcode

import (
	"context"
	"fmt"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pysource"
)

// netPrefixes are the modules and callables that open connections.
var netPrefixes = []string{
	"urllib.request.", "urllib.urlopen", "urllib.urlretrieve", "urllib2.", "requests.", "httpx.",
	"urllib3.", "http.client.", "httplib.", "socket.", "ftplib.", "smtplib.", "telnetlib.",
	"aiohttp.", "pycurl.", "websocket.", "wget.",
}

// procPrefixes are the callables that run processes.
var procPrefixes = []string{
	"subprocess.", "os.system", "os.popen", "os.exec", "os.spawn", "os.posix_spawn", "pty.spawn",
	"commands.", "asyncio.create_subprocess_",
}

// evals run code given as data.
var evals = map[string]bool{
	"exec": true, "eval": true, "compile": true, "builtins.exec": true, "builtins.eval": true,
	"builtins.compile": true, "execfile": true,
}

// decoders are the last names of calls whose result, run by exec or eval,
// hides the code from readers.
var decoders = map[string]bool{
	"b64decode": true, "b32decode": true, "b16decode": true, "b85decode": true, "a85decode": true,
	"urlsafe_b64decode": true, "decodebytes": true, "unhexlify": true, "fromhex": true,
	"decompress": true, "decode": true, "loads": true, "chr": true, "join": true,
}

// secrets are path fragments of credentials and system files.
var secrets = []string{
	".ssh", ".aws", ".gitconfig", ".git-credentials", "/etc/passwd", "/etc/shadow", ".npmrc",
	".pypirc", ".netrc", ".docker/config", ".kube/config", ".gnupg", ".azure", ".config/gcloud",
}

// envDumps are uses of os.environ that read all of it.
var envDumps = map[string]bool{
	"os.environ.copy": true, "os.environ.items": true, "os.environ.keys": true,
	"os.environ.values": true, "os.environ.__str__": true,
}

func hasPrefix(name string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(name, p) || name == strings.TrimSuffix(p, ".") {
			return true
		}
	}
	return false
}

func lastName(s string) string { return s[strings.LastIndexByte(s, '.')+1:] }

// python judges a build hook or .pth line. base is added to every line:
// non-zero when src is one line of a larger file.
func (j *judge) python(ctx context.Context, src []byte, base int) error {
	res, err := pysource.Scan(ctx, src, pysource.Limits{Bytes: MaxFileBytes})
	if err != nil {
		return fmt.Errorf("scanning %s: %w", j.path, err)
	}
	if res.Limit != "" {
		j.add(inventory.RuleScanLimit, inventory.High, 0, res.Limit,
			"the build script was not analysed to the end: it is not known to be clean",
			"review it by hand")
	}
	if res.Syntax != nil {
		j.add(RuleMalformed, inventory.Medium, base+res.Syntax.Line, res.Syntax.Msg,
			"the build script cannot be tokenized here: Python may read it differently than this scan",
			"review the file by hand around that line")
	}
	var network, creds bool
	type hit struct {
		line     int
		evidence string
	}
	var netHits, procHits, credHits, execHits []hit
	for _, c := range res.Calls {
		name := c.Resolved
		line := base + c.Line
		switch {
		case hasPrefix(name, netPrefixes) && c.Called:
			network = true
			netHits = append(netHits, hit{line, name})
		case hasPrefix(name, procPrefixes) && c.Called:
			procHits = append(procHits, hit{line, name + argsText(src, c)})
		case envDumps[name]:
			creds = true
			credHits = append(credHits, hit{line, name})
		case evals[name] && c.Called:
			if d := decodedArg(res.Calls, c); d != "" {
				execHits = append(execHits, hit{line, name + "(" + d + "(…))"})
			} else if len(c.Args) > 0 && !c.Args[0].Literal {
				execHits = append(execHits, hit{line, name + argsText(src, c)})
			}
		}
		for _, a := range c.Args {
			if a.Keyword == "env" {
				continue
			}
			if t := strings.TrimSpace(string(src[a.Start:a.End])); t == "os.environ" || t == "dict(os.environ)" {
				creds = true
				credHits = append(credHits, hit{line, name + "(" + t + ")"})
			}
			for _, str := range a.Strings {
				for _, sec := range secrets {
					if strings.Contains(str, sec) {
						creds = true
						credHits = append(credHits, hit{line, fmt.Sprintf("%s(%q)", name, clip(str, 80))})
					}
				}
			}
		}
	}
	for _, h := range execHits {
		j.add(RuleDecodeExec, inventory.Critical, h.line, h.evidence,
			"the build script runs code it builds or decodes at run time: the code that runs at install is hidden from review",
			"do not install the package; report it to the index")
	}
	credSev := inventory.High
	if network {
		credSev = inventory.Critical
	}
	seen := map[int]bool{} // one finding a line: nested calls repeat an argument
	for _, h := range credHits {
		if seen[h.line] {
			continue
		}
		seen[h.line] = true
		j.add(RuleCredentials, credSev, h.line, h.evidence,
			"the build script reads credentials or the whole environment"+sendNote(network),
			"do not install the package; rotate any credential on machines that did")
	}
	netSev := inventory.High
	if creds {
		netSev = inventory.Critical
	}
	for _, h := range netHits {
		j.add(RuleInstallScript, netSev, h.line, h.evidence,
			"the build script opens network connections when the package is installed",
			"build from a reviewed source; a package should declare what it needs, not fetch it at install")
	}
	for _, h := range procHits {
		j.add(RuleInstallScript, inventory.High, h.line, h.evidence,
			"the build script runs processes when the package is installed",
			"read what the process runs before installing the package from source")
	}
	return nil
}

func sendNote(network bool) string {
	if network {
		return ", and opens network connections: the data can be sent away"
	}
	return ""
}

// argsText is the call's first argument, cut short, for evidence.
func argsText(src []byte, c pysource.Call) string {
	if len(c.Args) == 0 {
		return "()"
	}
	return "(" + c.Args[0].Text(src, 60) + ")"
}

// decodedArg names the decoder called within the first argument of c.
func decodedArg(calls []pysource.Call, c pysource.Call) string {
	if len(c.Args) == 0 {
		return ""
	}
	a := c.Args[0]
	for _, d := range calls {
		if d.Offset >= a.Start && d.Offset < a.End && d.Called && decoders[lastName(d.Resolved)] {
			return d.Resolved
		}
	}
	return ""
}
