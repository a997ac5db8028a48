package repo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pysource"
)

// What a dangerous callable does, which decides its rule and severity.
type effect int

const (
	eProcess effect = iota + 1 // runs a process: critical
	eEval                      // evaluates code: critical unless its argument is a literal
	eLoad                      // runs code by deserialising or loading it: high
	eImport                    // imports a module by name: high unless the name is a literal
	eNetwork                   // opens a connection: high
	eFile                      // writes, moves or deletes files: high outside the repository
	eOpen                      // opens a file: by mode and path
)

// dangers are the callables judged, by fully resolved dotted name.
var dangers = dangerTable()

func dangerTable() map[string]effect {
	dangers := map[string]effect{}
	add := func(e effect, names ...string) {
		for _, n := range names {
			dangers[n] = e
		}
	}
	add(eProcess,
		"os.system", "os.popen", "os.popen2", "os.popen3", "os.popen4", "os.startfile",
		"os.execl", "os.execle", "os.execlp", "os.execlpe", "os.execv", "os.execve", "os.execvp", "os.execvpe",
		"os.spawnl", "os.spawnle", "os.spawnlp", "os.spawnlpe", "os.spawnv", "os.spawnve", "os.spawnvp", "os.spawnvpe",
		"os.posix_spawn", "os.posix_spawnp", "posix.system", "nt.system", "posix.popen", "nt.popen",
		"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
		"subprocess.Popen", "subprocess.getoutput", "subprocess.getstatusoutput",
		"pty.spawn", "commands.getoutput", "commands.getstatusoutput", "platform.popen",
		"asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
		"pexpect.spawn", "pexpect.run", "sh.Command")
	add(eEval, "exec", "eval", "compile", "execfile", "builtins.exec", "builtins.eval", "builtins.compile",
		"code.interact", "code.InteractiveInterpreter", "code.InteractiveConsole")
	add(eLoad, "marshal.loads", "marshal.load", "pickle.loads", "pickle.load", "cPickle.loads", "cPickle.load",
		"_pickle.loads", "_pickle.load", "dill.loads", "dill.load", "cloudpickle.loads", "cloudpickle.load",
		"types.FunctionType", "types.CodeType", "runpy.run_path", "runpy.run_module",
		"ctypes.CDLL", "ctypes.cdll.LoadLibrary", "ctypes.WinDLL", "ctypes.windll.LoadLibrary",
		"ctypes.PyDLL", "ctypes.LibraryLoader", "cffi.FFI", "torch.ops.load_library",
		"torch.utils.cpp_extension.load", "torch.utils.cpp_extension.load_inline")
	add(eImport, "__import__", "builtins.__import__", "importlib.import_module", "importlib.__import__",
		"importlib.util.spec_from_file_location", "importlib.util.module_from_spec",
		"importlib.machinery.SourceFileLoader", "imp.load_source", "imp.load_module", "imp.load_dynamic",
		"sys.path.insert", "sys.path.append", "pkgutil.iter_modules")
	add(eNetwork,
		"requests.get", "requests.post", "requests.put", "requests.patch", "requests.delete", "requests.head",
		"requests.request", "requests.Session", "requests.session",
		"urllib.request.urlopen", "urllib.request.urlretrieve", "urllib.request.Request",
		"urllib.request.build_opener", "urllib.urlopen", "urllib.urlretrieve", "urllib2.urlopen",
		"http.client.HTTPConnection", "http.client.HTTPSConnection", "httplib.HTTPConnection",
		"httplib.HTTPSConnection", "httpx.get", "httpx.post", "httpx.put", "httpx.request", "httpx.stream",
		"httpx.Client", "httpx.AsyncClient", "aiohttp.ClientSession", "aiohttp.request",
		"socket.socket", "socket.create_connection", "socket.fromfd", "ftplib.FTP", "ftplib.FTP_TLS",
		"smtplib.SMTP", "smtplib.SMTP_SSL", "telnetlib.Telnet", "paramiko.SSHClient", "pycurl.Curl",
		"websocket.create_connection", "websockets.connect", "wget.download", "urllib3.PoolManager",
		"torch.hub.load", "torch.hub.download_url_to_file", "torch.hub.load_state_dict_from_url",
		"huggingface_hub.hf_hub_download", "huggingface_hub.snapshot_download", "huggingface_hub.hf_hub_url")
	add(eFile, "os.remove", "os.unlink", "os.rmdir", "os.removedirs", "os.rename", "os.renames", "os.replace",
		"os.chmod", "os.chown", "os.symlink", "os.link", "os.mkdir", "os.makedirs", "os.truncate",
		"shutil.rmtree", "shutil.move", "shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree",
		"shutil.chown")
	add(eOpen, "open", "builtins.open", "io.open", "codecs.open", "os.open")
	return dangers
}

// decoders are the last names of calls whose result, passed to exec or
// eval, means the code was hidden from readers.
var decoders = map[string]bool{
	"b64decode": true, "b32decode": true, "b16decode": true, "a85decode": true, "b85decode": true,
	"decodebytes": true, "decodestring": true, "unhexlify": true, "fromhex": true, "decompress": true,
	"decode": true, "loads": true, "urlsafe_b64decode": true, "rot13": true, "join": true, "reversed": true,
}

// importOnly are modules whose import is worth a finding when no call of
// theirs was judged: model code has little use for them.
var importOnly = map[string]bool{
	"subprocess": true, "pty": true, "commands": true, "ctypes": true, "socket": true, "marshal": true,
	"pexpect": true, "paramiko": true, "telnetlib": true, "ftplib": true, "smtplib": true,
}

// code judges Python source: the findings go to s with path and comp;
// where gives the evidence a prefix (a notebook cell) and lines says
// whether the lines are the file's own.
type code struct {
	s     inventory.Sink
	path  string
	comp  string
	where string
	lines bool
	lim   pysource.Limits
	// note is added to every message: whether the code runs at load.
	note string
}

func (c *code) finding(rule string, sev inventory.Severity, line int, evidence, message, fix string) {
	fd := inventory.Finding{
		Rule: rule, Severity: sev, Component: c.comp, Path: c.path,
		Evidence: c.where + evidence, Message: message + c.note, Remediation: fix,
	}
	if c.lines {
		fd.Line = line
	} else if line > 0 {
		fd.Evidence = fmt.Sprintf("%sline %d: %s", c.where, line, evidence)
	}
	c.s.Finding(fd)
}

// judge scans src and reports what it would do.
func (c *code) judge(ctx context.Context, src []byte) error {
	res, err := pysource.Scan(ctx, src, c.lim)
	if err != nil {
		return err
	}
	if res.Limit != "" {
		c.finding(inventory.RuleScanLimit, inventory.High, 0, res.Limit,
			"the Python source was not analysed to the end: it is not known to be clean",
			"review it by hand, or raise the limit if it is legitimate")
	}
	if res.Syntax != nil {
		c.finding("repo/malformed", inventory.Medium, res.Syntax.Line, res.Syntax.Msg,
			"the Python source cannot be tokenized here: Python may read it differently than this scan",
			"review the file by hand around that line")
	}
	stars := starModules(res.Imports)
	judged := map[string]bool{} // top-level modules with a judged use
	seen := map[string]bool{}   // rule+name+line, against repeats from evasions
	for _, call := range res.Calls {
		name := normalise(call.Resolved)
		e, ok := dangers[name]
		if !ok && !strings.Contains(name, ".") {
			for _, m := range stars {
				if e, ok = dangers[m+"."+name]; ok {
					name = m + "." + name
					break
				}
			}
		}
		if !ok {
			continue
		}
		top, _, _ := strings.Cut(name, ".")
		judged[top] = true
		key := fmt.Sprintf("%s@%d/%d", name, call.Line, call.Offset)
		if seen[key] {
			continue
		}
		seen[key] = true
		c.call(src, res, call, name, e)
	}
	for _, im := range res.Imports {
		top, _, _ := strings.Cut(im.Module, ".")
		if !importOnly[top] || judged[top] {
			continue
		}
		judged[top] = true
		c.finding("repo/code-import", inventory.Medium, im.Line, "import "+im.Target(),
			"the code imports "+top+", which runs processes, opens connections, loads native code or deserialises code; no call of it was seen, but a tokenizer cannot follow every use",
			"review how the module is used")
	}
	return nil
}

// normalise maps the spellings of builtins to their plain names.
func normalise(name string) string {
	for _, p := range []string{"builtins.", "__builtins__.", "__builtin__."} {
		if rest, ok := strings.CutPrefix(name, p); ok && !strings.Contains(rest, ".") {
			return rest
		}
	}
	return name
}

func starModules(ims []pysource.Import) []string {
	var out []string
	for _, im := range ims {
		if im.Name == "*" {
			out = append(out, im.Module)
		}
	}
	return out
}

// maxEvidence bounds the source quoted in a finding.
const maxEvidence = 160

// callText is the call as written, on one line, cut short.
func callText(src []byte, call pysource.Call) string {
	end := call.Offset + len(call.Name)
	if n := len(call.Args); n > 0 {
		end = call.Args[n-1].End + 1
	} else if call.Called {
		end += 2
	}
	end = min(end, len(src), call.Offset+maxEvidence)
	t := strings.Join(strings.Fields(string(src[call.Offset:end])), " ")
	if call.Via != "" {
		t = fmt.Sprintf("%s (%s via %s)", t, call.Name, call.Via)
	}
	return t
}

func (c *code) call(src []byte, res *pysource.Result, call pysource.Call, name string, e effect) {
	ev := callText(src, call)
	line := call.Line
	ref := ""
	if !call.Called {
		ref = " (referenced, not called here: it may be called through another name)"
	}
	switch e {
	case eProcess:
		sev := inventory.Critical
		if !call.Called {
			sev = inventory.High
		}
		c.finding("repo/code-exec", sev, line, ev,
			"the code runs a process ("+name+")"+ref,
			"do not run this code; review why a model needs to start processes")
	case eEval:
		sev, how := inventory.High, "a literal string"
		switch {
		case !call.Called:
			how = "an unknown argument"
		case len(call.Args) == 0:
			how = "no argument"
		case decoded(res, call.Args[0]):
			sev, how = inventory.Critical, "decoded data: code hidden from readers"
		case !call.Args[0].Literal:
			sev, how = inventory.Critical, "a value built at run time"
		}
		c.finding("repo/code-exec", sev, line, ev,
			"the code evaluates Python code ("+name+") from "+how+ref,
			"do not run this code; model code has no need to evaluate strings")
	case eLoad:
		c.finding("repo/code-exec", inventory.High, line, ev,
			"the code runs code by deserialising or loading it ("+name+")"+ref,
			"review what is loaded and from where; do not run the code if it comes with the model")
	case eImport:
		sev, how := inventory.High, "a name built at run time"
		if call.Called && len(call.Args) > 0 && call.Args[0].Literal {
			sev, how = inventory.Medium, fmt.Sprintf("the literal %q", call.Args[0].Value)
		}
		if name == "sys.path.insert" || name == "sys.path.append" {
			how = "an added search path"
		}
		c.finding("repo/code-import", sev, line, ev,
			"the code imports a module dynamically ("+name+") by "+how+ref,
			"review which module is imported; dynamic imports hide what code runs")
	case eNetwork:
		c.finding("repo/code-network", inventory.High, line, ev,
			"the code opens network connections ("+name+")"+ref,
			"review where it connects and what it sends or fetches; code that fetches more code at load time is a way in")
	case eFile:
		for _, a := range call.Args {
			for _, s := range a.Strings {
				if why := outside(s); why != "" {
					c.finding("repo/code-file", inventory.High, line, ev,
						fmt.Sprintf("the code changes files outside the model's folder (%s on %q, %s)", name, s, why),
						"do not run this code; review what it writes, moves or deletes")
					return
				}
			}
		}
	case eOpen:
		c.open(call, name, ev)
	}
}

// open judges open() of a literal path outside the model: writing there
// is high, reading medium.
func (c *code) open(call pysource.Call, name, ev string) {
	if len(call.Args) == 0 || call.Args[0].Keyword != "" && call.Args[0].Keyword != "file" {
		return
	}
	var why, path string
	for _, s := range call.Args[0].Strings {
		if why = outside(s); why != "" {
			path = s
			break
		}
	}
	if why == "" {
		return
	}
	mode := "r"
	for i, a := range call.Args[1:] {
		if a.Keyword == "" && i == 0 || a.Keyword == "mode" || a.Keyword == "flags" {
			mode = "?" // os.open's flags, or a mode built at run time
			if a.Literal {
				mode = a.Value
			}
		}
	}
	if strings.ContainsAny(mode, "wax+?") {
		c.finding("repo/code-file", inventory.High, call.Line, ev,
			fmt.Sprintf("the code opens %q (%s) for writing: outside the model's folder", path, why),
			"do not run this code; review what it writes")
		return
	}
	c.finding("repo/code-file", inventory.Medium, call.Line, ev,
		fmt.Sprintf("the code reads %q (%s): outside the model's folder", path, why),
		"review why model code reads that file: secrets and keys are read this way before being sent off")
}

// outside says why a literal path leaves the model's folder, or "".
// Scratch places (/tmp, /dev/null) are not counted.
func outside(p string) string {
	switch {
	case p == "" || strings.Contains(p, "\n"):
		return ""
	case p == "/dev/null" || strings.HasPrefix(p, "/tmp/") || p == "/tmp" || strings.HasPrefix(p, "/dev/std"):
		return ""
	case strings.HasPrefix(p, "~"):
		return "in the home folder"
	case strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\\`) || len(p) > 2 && p[1] == ':' && (p[2] == '\\' || p[2] == '/'):
		return "an absolute path"
	case strings.HasPrefix(p, "$") || strings.HasPrefix(p, "%"):
		return "from an environment variable"
	}
	for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return "climbs out with .."
		}
	}
	return ""
}

// decoded reports whether the argument holds a call of a decoder.
func decoded(res *pysource.Result, a pysource.Arg) bool {
	return slices.ContainsFunc(res.Calls, func(d pysource.Call) bool {
		if !d.Called || d.Offset < a.Start || d.Offset >= a.End {
			return false
		}
		last := d.Resolved[strings.LastIndexByte(d.Resolved, '.')+1:]
		return decoders[last]
	})
}
