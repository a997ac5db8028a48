package aicode

import (
	"fmt"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/modelfile/pysource"
)

// code/llm-output-exec follows a model's output to code, shell and SQL
// within one function (the module's top level, notebook cells included,
// is a function of its own). It is intra-procedural and flow-insensitive:
//
//   - sources are expressions that read a model's answer
//     (resp.choices[0].message.content, msg.content[0].text, .output_text,
//     .generations, dict access as resp["choices"][0]["message"]["content"])
//     and the results of known LLM calls (client.chat.completions.create,
//     client.messages.create, model.generate_content, chain.invoke,
//     ollama.chat, litellm.completion, …), which taint the names they are
//     assigned to, and every use of those names (resp.text included);
//   - taint flows through assignments, plain, augmented, chained,
//     annotated and to tuples (each name of the tuple), and through any
//     expression that mentions a tainted name: f-strings, concatenation,
//     method calls (x.strip()), calls that take it (json.loads(x));
//   - sinks are eval, exec and compile, os.system, os.popen, the os.exec
//     and os.spawn families, subprocess, pty.spawn, asyncio's subprocess
//     functions, and SQL: .execute, .executescript and .executemany of any
//     object, pandas.read_sql; for SQL only the statement argument counts,
//     parameters passed apart are safe.
//
// Not followed: function parameters and return values (so nothing across
// calls), for-loop and with-statement targets, walrus assignments,
// attributes set on other objects, containers filled by method calls, and
// anything reached through a variable the tokenizer cannot name.

// llmOutputs are the chain fragments that read a model's answer.
var llmOutputs = []string{
	".choices[].message.content", ".choices[].text", ".choices[].delta.content",
	"['choices'][]['message']['content']", "['choices'][]['text']",
	".content[].text", ".output_text", ".generations", ".candidates[].content.parts[].text",
	"['message']['content']", ".message.content",
}

// llmCalls are the calls, by the suffix of their dotted name, whose result
// is a model's answer.
var llmCalls = []string{
	"chat.completions.create", "completions.create", "messages.create", "responses.create",
	"generate_content", "generate_content_async", "send_message", "invoke", "ainvoke",
	"ollama.chat", "ollama.generate", "litellm.completion", "litellm.acompletion", "chat.complete", "complete",
}

// A sink is where model output must not go.
type sink struct {
	what string // "code", "a shell command", "SQL"
	sev  inventory.Severity
	// arg is the position of the argument that is run, or -1 for any;
	// kw its keyword name.
	arg int
	kw  string
}

func sinkOf(name string) (sink, bool) {
	switch name {
	case "eval", "exec", "builtins.eval", "builtins.exec":
		return sink{"code", inventory.Critical, 0, "source"}, true
	case "compile", "builtins.compile":
		return sink{"code", inventory.Critical, 0, "source"}, true
	case "os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput", "asyncio.create_subprocess_shell":
		return sink{"a shell command", inventory.Critical, 0, "cmd"}, true
	case "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "subprocess.Popen":
		return sink{"a command", inventory.Critical, 0, "args"}, true
	case "pty.spawn", "asyncio.create_subprocess_exec":
		return sink{"a command", inventory.Critical, -1, ""}, true
	case "pandas.read_sql", "pandas.read_sql_query":
		return sink{"SQL", inventory.High, 0, "sql"}, true
	}
	if strings.HasPrefix(name, "os.exec") || strings.HasPrefix(name, "os.spawn") {
		return sink{"a command", inventory.Critical, -1, ""}, true
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		switch name[i+1:] {
		case "execute", "executescript", "executemany":
			return sink{"SQL", inventory.High, 0, ""}, true
		}
	}
	return sink{}, false
}

// maxWhy bounds the explanation kept for a tainted name: a chain of
// assignments is named from its last step.
const maxWhy = 160

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// taint says why a name holds model output.
type taint map[string]string

// source returns why chain reads model output, or "".
func (k *checker) source(chain string, tainted taint, aliases map[string]string) string {
	for _, o := range llmOutputs {
		if strings.Contains(chain, o) {
			return chain
		}
	}
	// A call of a known LLM API, as written or through the imports.
	if head, _, ok := strings.Cut(chain, "()"); ok && isDotted(head) {
		full := resolveWith(aliases, head)
		for _, s := range llmCalls {
			if full == s || strings.HasSuffix(full, "."+s) {
				return head + "()"
			}
		}
	}
	// A tainted name, or a tainted dotted name (self.code), and what
	// follows it.
	for i := 0; i <= len(chain); i++ {
		if i < len(chain) && !strings.ContainsRune(".[(", rune(chain[i])) {
			continue
		}
		if why, ok := tainted[chain[:i]]; ok {
			return why
		}
		if i < len(chain) && chain[i] != '.' {
			break
		}
	}
	return ""
}

func isDotted(s string) bool {
	return s != "" && !strings.ContainsAny(s, "[]()'\"")
}

func resolveWith(aliases map[string]string, name string) string {
	head, rest, dotted := strings.Cut(name, ".")
	full, ok := aliases[head]
	if !ok {
		return name
	}
	if dotted {
		return full + "." + rest
	}
	return full
}

// llmOutput reports code/llm-output-exec.
func (k *checker) llmOutput() {
	type use struct {
		c pysource.Call
		s sink
	}
	sinks := map[int][]use{} // by function
	for _, c := range k.res.Calls {
		if !c.Called {
			continue
		}
		if s, ok := sinkOf(c.Resolved); ok {
			sinks[c.Func] = append(sinks[c.Func], use{c, s})
		}
	}
	if len(sinks) == 0 {
		return
	}
	aliases := map[string]string{}
	for _, im := range k.res.Imports {
		switch {
		case im.As != "":
			aliases[im.As] = im.Target()
		case im.Name != "":
			aliases[im.Name] = im.Target()
		}
	}
	for fn, uses := range sinks {
		tainted := k.taints(fn, aliases)
		for _, u := range uses {
			k.sinkUse(u.c, u.s, tainted, aliases)
		}
	}
}

// sinkUse reports the call c of sink s if an argument it runs holds model
// output.
func (k *checker) sinkUse(c pysource.Call, s sink, tainted taint, aliases map[string]string) {
	for _, a := range runArgs(c, s) {
		for _, ch := range k.res.Chains(a.Start, a.End) {
			why := k.source(ch, tainted, aliases)
			if why == "" {
				continue
			}
			text := evidence(k.src, a.Start, a.End)
			k.report(c, RuleLLMOutputExec, s.sev,
				fmt.Sprintf("model output (%s) reaches %s as %s: whoever controls the model's input (a prompt injection in any document, page or message it reads) controls what runs", why, c.Name, s.what),
				fixFor(s, text))
			return
		}
	}
}

// runArgs are the arguments of a sink call that are run.
func runArgs(c pysource.Call, s sink) []pysource.Arg {
	var out []pysource.Arg
	n := 0
	for _, a := range c.Args {
		switch {
		case a.Keyword == "*" || a.Keyword == "**":
			out = append(out, a)
		case a.Keyword != "":
			if s.kw != "" && a.Keyword == s.kw {
				out = append(out, a)
			}
		default:
			if s.arg < 0 || n == s.arg {
				out = append(out, a)
			}
			n++
		}
	}
	return out
}

func fixFor(s sink, arg string) string {
	switch s.what {
	case "SQL":
		return fmt.Sprintf("never build SQL from model output: pass values as query parameters (cursor.execute(sql, params)) with a fixed statement instead of %s", arg)
	case "code":
		return fmt.Sprintf("never run model output: parse it (json.loads, ast.literal_eval) into data and map it to a fixed set of allowed actions instead of running %s; run generated code only in a sandbox", arg)
	}
	return fmt.Sprintf("never run model output as a command: map it to a fixed list of allowed commands and pass arguments as a list with shell=False instead of %s", arg)
}

// taints follows model output through the assignments of function fn to
// a fixed point: flow-insensitive, so a loop's later assignments count.
func (k *checker) taints(fn int, aliases map[string]string) taint {
	var as []pysource.Assign
	for _, a := range k.res.Assigns {
		if a.Func == fn {
			as = append(as, a)
		}
	}
	chains := make([][]string, len(as))
	for i, a := range as {
		chains[i] = k.res.Chains(a.Start, a.End)
	}
	tainted := taint{}
	// Each round taints at least one more name or ends: at most one round
	// per assignment, plus the last.
	for round := 0; round <= len(as); round++ {
		changed := false
		for i, a := range as {
			for _, ch := range chains[i] {
				why := k.source(ch, tainted, aliases)
				if why == "" {
					continue
				}
				for _, t := range a.Targets {
					if _, ok := tainted[t]; !ok {
						tainted[t] = cut(fmt.Sprintf("%s = %s (line %d)", t, why, a.Line), maxWhy)
						changed = true
					}
				}
				break
			}
		}
		if !changed {
			break
		}
	}
	return tainted
}
