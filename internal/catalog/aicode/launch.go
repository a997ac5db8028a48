package aicode

import (
	"bufio"
	"bytes"
	"path"
	"regexp"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// modelfile reads the FROM lines of an Ollama Modelfile. A FROM naming a
// file becomes the model component of that file, so it merges with what
// the model catalogers found there; a library name becomes an Ollama model.
func modelfile(p string, src []byte, r *refs) {
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, maxText)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || !strings.EqualFold(f[0], "FROM") {
			continue
		}
		ref := strings.Trim(f[1], `"'`)
		loc := inventory.Location{Path: p, Line: n}
		switch {
		case strings.HasPrefix(ref, "hf.co/") || strings.HasPrefix(ref, "huggingface.co/"):
			repo, quant, _ := strings.Cut(ref, ":")
			if c, ok := hfModel(inventory.KindModel, repo, "", "ollama"); ok {
				if quant != "" {
					c.Properties["quantization"] = quant
				}
				r.add(c, loc)
			}
		case strings.HasPrefix(ref, ".") || strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "~") ||
			strings.Contains(ref, "/") && strings.Contains(path.Base(ref), "."):
			target := ref
			if !path.IsAbs(ref) && !strings.HasPrefix(ref, "~") {
				target = path.Join(path.Dir(strings.ReplaceAll(p, "\\", "/")), ref)
			}
			r.add(inventory.Component{
				ID: inventory.FileComponentID(inventory.KindModel, target), Kind: inventory.KindModel, Name: path.Base(ref),
				Properties: map[string]string{"loader": "ollama"},
			}, loc)
		default:
			if c, ok := ollamaModel(ref, "ollama"); ok {
				r.add(c, loc)
			}
		}
	}
}

// Model-server arguments: vllm serve ORG/NAME, --model ORG/NAME,
// --model-id ORG/NAME (TGI), and MODEL_ID=/MODEL_NAME= assignments.
var (
	vllmServe  = regexp.MustCompile(`\bvllm\s+serve\s+["']?([^\s"'\\]+)`)
	modelFlag  = regexp.MustCompile(`--model(-id|-name)?(?:=|\s+)["']?([^\s"'\\]+)`)
	modelEnv   = regexp.MustCompile(`\b(?:HF_)?MODEL(?:_ID|_NAME)?\s*[=:]\s*["']?([^\s"'\\]+)`)
	revFlag    = regexp.MustCompile(`--revision(?:=|\s+)["']?([^\s"'\\]+)`)
	tgiMention = regexp.MustCompile(`text-generation-(launcher|inference)`)
)

// launch reads model-server command lines in scripts, Dockerfiles and
// compose files.
func launch(p string, src []byte, r *refs) {
	loader := ""
	switch {
	case bytes.Contains(src, []byte("vllm")):
		loader = "vllm"
	case tgiMention.Match(src):
		loader = "tgi"
	default:
		return // not a model server's launcher: MODEL= means anything
	}
	for _, ll := range logicalLines(src) {
		n, l := ll.line, ll.text
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "#!") {
			continue
		}
		var repos []string
		if m := vllmServe.FindStringSubmatch(l); m != nil {
			repos = append(repos, m[1])
		}
		for _, m := range modelFlag.FindAllStringSubmatch(l, -1) {
			repos = append(repos, m[2])
		}
		for _, m := range modelEnv.FindAllStringSubmatch(l, -1) {
			repos = append(repos, m[1])
		}
		rev := ""
		if m := revFlag.FindStringSubmatch(l); m != nil {
			rev = m[1]
		}
		for _, repo := range repos {
			if strings.HasPrefix(repo, "$") || !strings.Contains(repo, "/") {
				continue // a variable, or a local name we cannot place
			}
			addModel(r, inventory.KindModel, repo, rev, loader, inventory.Location{Path: p, Line: n})
		}
	}
}

type logicalLine struct {
	line int // where it starts
	text string
}

// logicalLines joins lines continued with a trailing backslash, as a
// shell and a Dockerfile RUN do.
func logicalLines(src []byte) []logicalLine {
	var out []logicalLine
	var cur strings.Builder
	start := 0
	for i, l := range strings.Split(string(src), "\n") {
		l = strings.TrimRight(l, "\r")
		if cur.Len() == 0 {
			start = i + 1
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cur.WriteString(s)
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(l)
		out = append(out, logicalLine{start, cur.String()})
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, logicalLine{start, cur.String()})
	}
	return out
}
