package keras

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/globals"
	"github.com/chainvet/chainvet/internal/modelfile/marshal"
)

// Evidence stays readable: this many names and strings of a code object
// are listed, each cut to maxShown bytes.
const (
	maxListed = 24
	maxShown  = 80
)

// kerasLambda reads a Keras 3 __lambda__ object: the Lambda layer writes
// {"code": …, "defaults": …, "closure": …}; serialization_lib writes
// {"value": [code, defaults, closure]}.
func (w *walker) kerasLambda(n *node, path string) {
	cfg := n.get("config")
	p := join(path, "config.code")
	code := cfg.get("code")
	if code == nil {
		p = join(path, "config.value")
		code = cfg.get("value")
		if code != nil && code.kind == jArray && len(code.items) > 0 {
			code, p = code.items[0], p+"[0]"
		}
	}
	if code != nil && code.kind == jArray && len(code.items) > 0 {
		// func_load unpacks a whole [code, defaults, closure] dump too.
		code, p = code.items[0], p+"[0]"
	}
	if code == nil || code.kind != jString {
		w.report(n, path, RuleLambda, inventory.High, "__lambda__ object without a code string",
			"a Python lambda is serialized here, but its code cannot be found: Keras loads what this scanner cannot see",
			"reject the model, or re-save it without Lambda layers")
		return
	}
	w.lambda(code, p)
}

// legacyLambda reads the config of a Keras 1/2 Lambda layer, whose
// function and output_shape are each code ("lambda": [code, defaults,
// closure], or the code string alone), a function name ("function", with
// its module), or data ("raw").
func (w *walker) legacyLambda(cfg *node, path string) {
	if cfg == nil || cfg.kind != jObject {
		return
	}
	for _, f := range []struct{ value, typ, module string }{
		{"function", "function_type", "module"},
		{"output_shape", "output_shape_type", "output_shape_module"},
	} {
		v := cfg.get(f.value)
		typ, _ := cfg.str(f.typ)
		if v == nil {
			continue
		}
		p := join(path, f.value)
		switch typ {
		case "lambda":
			code := v
			if v.kind == jArray && len(v.items) > 0 {
				code, p = v.items[0], p+"[0]"
			}
			if code.kind != jString {
				w.report(v, p, RuleLambda, inventory.High, f.value+" of type lambda without a code string",
					"a Python lambda is serialized here, but its code cannot be found: Keras loads what this scanner cannot see",
					"reject the model, or re-save it without Lambda layers")
				continue
			}
			w.lambda(code, p)
		case "function":
			name, _ := cfg.str(f.value)
			module, _ := cfg.str(f.module)
			w.namedFunction(v, p, module, name)
		}
	}
}

// namedFunction checks a legacy Lambda's function given by name: Keras
// looks it up in the named module when that module is already imported,
// which os and builtins always are.
func (w *walker) namedFunction(n *node, path, module, name string) {
	if name == "" || module == "" || module == "__main__" || kerasFamily(module) {
		return
	}
	full := module + "." + name
	sev, why := inventory.High, "function outside Keras and TensorFlow"
	if c := globals.Classify(full); c.Verdict == globals.Dangerous {
		sev, why = inventory.Critical, c.Reason
	}
	w.report(n, path, RuleForeign, sev, fmt.Sprintf("Lambda function %s (%s)", full, why),
		"the Lambda layer calls "+full+" on its inputs: Keras finds it by module and name when the model loads",
		"do not load the model unless "+full+" is what you expect")
}

// lambda decodes the code of a lambda and reports what it references.
func (w *walker) lambda(code *node, path string) {
	raw := lambdaBytes(code.s)
	codes, decodeErr := marshal.DecodeCode(raw, w.lim.Marshal)
	var names, strs []string
	var head string
	if len(codes) > 0 {
		seenN, seenS := map[string]bool{}, map[string]bool{}
		var layouts []string
		for _, c := range codes {
			r := c.References()
			for _, n := range r.Names {
				if !seenN[n] {
					seenN[n] = true
					names = append(names, n)
				}
			}
			for _, s := range r.Strings {
				if !seenS[s] {
					seenS[s] = true
					strs = append(strs, s)
				}
			}
			layouts = append(layouts, c.Layout.String())
		}
		c := codes[0]
		head = fmt.Sprintf("code object %s (%s, file %s)", shown(c.Name), strings.Join(layouts, " or "), shown(c.Filename))
	} else {
		// Not a code object any Python reads: list the identifiers in its
		// bytes, for a payload is still a payload to a loader that differs.
		seen := map[string]bool{}
		for _, id := range identifiers(raw) {
			if !seen[id] {
				seen[id] = true
				names = append(names, id)
			}
		}
		head = "undecodable code (" + decodeErr.Error() + ")"
	}
	var bad []string
	for _, s := range append(append([]string{}, names...), strs...) {
		if dangerousName(s) && !slices.Contains(bad, s) {
			bad = append(bad, s)
		}
	}
	ev := head
	if len(names) > 0 {
		ev += "; names " + list(names)
	}
	if len(strs) > 0 {
		ev += "; strings " + list(quoteAll(strs))
	}
	if len(bad) > 0 {
		ev += "; dangerous: " + list(bad)
		w.report(code, path, RuleLambda, inventory.Critical, ev,
			"a Lambda's Python code, which Keras runs when the model is loaded with safe_mode=False (and legacy .h5 loading always), references "+list(bad),
			"do not load the model; rebuild it without Lambda layers, from a trusted source")
		return
	}
	w.report(code, path, RuleLambda, inventory.High, ev,
		"the model carries Python code in a Lambda layer, which Keras runs when the model is loaded with safe_mode=False (and legacy .h5 loading always)",
		"load only with safe_mode=True, or replace the Lambda with a registered custom layer whose code you review")
	if errors.Is(decodeErr, marshal.ErrLimit) && len(codes) == 0 {
		w.report(code, path, RuleLimit, inventory.High, decodeErr.Error(),
			"the Lambda's code was not decoded to the end: what it references is not fully known",
			"raise the limit if the model is legitimate, or reject it")
	}
}

// lambdaBytes returns the bytes a Lambda's code string stands for, as
// Keras's func_load decodes it: base64 as binascii.a2b_base64 reads it
// (characters outside the alphabet skipped), or — when that fails, as for
// the strings Keras 1 and 2.0 wrote — the string's raw_unicode_escape
// encoding.
func lambdaBytes(s string) []byte {
	if b, ok := pyBase64(s); ok {
		return b
	}
	return rawUnicodeEscape(s)
}

func pyBase64(s string) ([]byte, bool) {
	val := func(c byte) int {
		switch {
		case c >= 'A' && c <= 'Z':
			return int(c - 'A')
		case c >= 'a' && c <= 'z':
			return int(c-'a') + 26
		case c >= '0' && c <= '9':
			return int(c-'0') + 52
		case c == '+':
			return 62
		case c == '/':
			return 63
		}
		return -1
	}
	out := make([]byte, 0, len(s)*3/4)
	var acc uint32
	nbits, quad, pads := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return nil, false // str.encode('ascii') fails first
		}
		if c == '=' {
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					return out, true // input after complete padding is ignored
				}
			}
			continue
		}
		v := val(c)
		if v < 0 {
			continue
		}
		pads = 0
		acc = acc<<6 | uint32(v)
		nbits += 6
		quad = (quad + 1) % 4
		if nbits >= 8 {
			nbits -= 8
			out = append(out, byte(acc>>nbits))
			acc &= 1<<nbits - 1
		}
	}
	return out, quad == 0
}

func rawUnicodeEscape(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < 0x100:
			out = append(out, byte(r))
		case r < 0x10000:
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = fmt.Appendf(out, `\U%08x`, r)
		}
	}
	return out
}

// maxIdentifiers bounds the identifiers listed from undecodable code.
const maxIdentifiers = 200

// identifiers returns the dotted identifiers of two or more characters in
// b, as a string dump would show them.
func identifiers(b []byte) []string {
	var out []string
	isStart := func(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isPart := func(c byte) bool { return isStart(c) || c >= '0' && c <= '9' || c == '.' }
	for i := 0; i < len(b) && len(out) < maxIdentifiers; {
		if !isStart(b[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(b) && isPart(b[j]) {
			j++
		}
		id := strings.Trim(string(b[i:j]), ".")
		if len(id) >= 2 {
			out = append(out, id)
			// A dotted name also names its parts.
			if strings.Contains(id, ".") {
				for _, part := range strings.Split(id, ".") {
					if len(part) >= 2 {
						out = append(out, part)
					}
				}
			}
		}
		i = j
	}
	return out
}

// lambdaDangerous are names that, in a Lambda's code, reach process,
// exec, import, file or network primitives, or the introspection that
// leads to them. Lambdas in real models compute on tensors and name none.
var lambdaDangerous = wordSet(`eval exec execfile compile __import__ open getattr setattr delattr
	globals locals vars breakpoint __builtins__ __build_class__ system popen popen2 popen3 popen4
	spawnl spawnle spawnlp spawnlpe spawnv spawnve spawnvp spawnvpe execl execle execlp execlpe
	execv execve execvp execvpe fork forkpty kill killpg startfile remove unlink rmdir removedirs
	rmtree check_output check_call getoutput getstatusoutput Popen urlopen urlretrieve
	import_module load_module exec_module __subclasses__ __globals__ __code__ __reduce__
	__reduce_ex__ __getattribute__ __mro__ __bases__ __class__ __loader__ urllib http ftplib
	smtplib telnetlib`)

// dangerousName reports whether a name or string constant of a Lambda's
// code is dangerous: on the list above, a whole module the reviewed
// globals list calls dangerous (os, subprocess, socket…), or a dotted
// name it calls dangerous (os.system).
func dangerousName(s string) bool {
	if lambdaDangerous[s] {
		return true
	}
	if s == "" || len(s) > globals.MaxNameBytes || strings.ContainsAny(s, " \t\n/\\'\"()") {
		return false
	}
	c := globals.Classify(s)
	if c.Verdict != globals.Dangerous {
		return false
	}
	return strings.Contains(s, ".") || c.Entry == s+".*"
}

func shown(s string) string {
	if len(s) > maxShown {
		return s[:maxShown] + "…"
	}
	return s
}

func quoteAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = fmt.Sprintf("%q", shown(s))
	}
	return out
}

// list joins up to maxListed items.
func list(l []string) string {
	if len(l) <= maxListed {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = shown(s)
		}
		return strings.Join(out, ", ")
	}
	return list(l[:maxListed]) + fmt.Sprintf(" and %d more", len(l)-maxListed)
}
