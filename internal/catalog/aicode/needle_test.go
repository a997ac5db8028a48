package aicode

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mentionsNaive is the definition mentionsAny must agree with.
func mentionsNaive(src []byte) bool {
	for _, n := range pythonNeedles {
		if bytes.Contains(src, n) {
			return true
		}
	}
	return false
}

func TestMentionsAny(t *testing.T) {
	inputs := []string{"", "x", "to", "import torch", "a.invoke(", "invoke", "no needle here at all\n", "xxLLM", "LL", "hub", "hu",
		"plain code\nfor x in items:\n    out.append(x)\n"}
	for _, n := range pythonNeedles {
		inputs = append(inputs, string(n), "x"+string(n)+"y", string(n[:len(n)-1]))
	}
	for _, dir := range []string{fixtures, codeFixtures} {
		files, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				inputs = append(inputs, string(b))
			}
		}
	}
	for _, s := range inputs {
		if got, want := mentionsAny([]byte(s)), mentionsNaive([]byte(s)); got != want {
			t.Errorf("mentionsAny(%.40q) = %v, want %v", s, got, want)
		}
	}
}

// BenchmarkNeedles measures the pre-filter on a file it must pass over.
func BenchmarkNeedles(b *testing.B) {
	var plain strings.Builder
	plain.WriteString("import os\nimport sys\nfrom collections import defaultdict\n\n")
	for j := range 40 {
		fmt.Fprintf(&plain, "def step%d(items, limit=%d):\n    out = defaultdict(list)\n    for k, v in items:\n        out[k].append(v * %d)\n    return sorted(out)[:limit]\n\n", j, j, j)
	}
	src := []byte(plain.String())
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if mentionsAny(src) {
			b.Fatal("the plain file mentions a needle")
		}
	}
}
