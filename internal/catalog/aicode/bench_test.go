package aicode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
)

// BenchmarkScan catalogs 2,000 generated Python files of about 3 KB, each
// loading a model and constructing a client, through the whole pipeline.
func BenchmarkScan(b *testing.B) {
	dir := b.TempDir()
	const files = 2000
	for i := range files {
		src := fmt.Sprintf(`import os
from openai import OpenAI
from transformers import AutoModel

client = OpenAI(base_url="https://gw%d.example/v1", api_key=os.environ["OPENAI_API_KEY"])
model = AutoModel.from_pretrained("org%d/model-%d", revision="main")
`, i%7, i%50, i)
		for j := range 60 {
			src += fmt.Sprintf("def f%d(x):\n    return helper(x, %d) + str(x)  # padding\n", j, j)
		}
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%20), fmt.Sprintf("m%d.py", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		r, err := inventory.Scan(context.Background(), []string{dir}, inventory.Options{Catalogers: []inventory.Cataloger{References{}}})
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Components) != files+1 {
			b.Fatalf("%d components, want %d", len(r.Components), files+1)
		}
	}
	b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkRules runs the code rules through the whole pipeline over a
// generated tree of 20,000 Python files, most of which name nothing the
// cataloger looks for (they must be passed over by the needle pre-filter),
// one in ten an ML script that trips several rules, and 1,000 notebooks.
func BenchmarkRules(b *testing.B) {
	dir := b.TempDir()
	const pyFiles, notebooks = 20000, 1000
	var total int64
	write := func(p, src string) {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(src))
	}
	var plain strings.Builder
	plain.WriteString("import os\nimport sys\nfrom collections import defaultdict\n\n")
	for j := range 40 {
		fmt.Fprintf(&plain, "def step%d(items, limit=%d):\n    out = defaultdict(list)\n    for k, v in items:\n        out[k].append(v * %d)\n    return sorted(out)[:limit]\n\n", j, j, j)
	}
	ml := `import subprocess
import torch
from openai import OpenAI
from transformers import AutoModel

client = OpenAI()
model = AutoModel.from_pretrained("org/model-%d", trust_remote_code=True)
state = torch.load("ckpt-%d.pt")


def act(task):
    resp = client.chat.completions.create(model="m", messages=[{"role": "user", "content": task}])
    cmd = resp.choices[0].message.content.strip()
    subprocess.run(cmd, shell=True)
`
	for i := range pyFiles {
		src := plain.String()
		if i%10 == 0 {
			src = fmt.Sprintf(ml, i, i) + src
		}
		write(fmt.Sprintf("py/d%d/m%d.py", i%100, i), src)
	}
	for i := range notebooks {
		nb := notebookOf("%pip install transformers torch==2.5.1\n", "import torch\nm = torch.load('m.pt', weights_only=True)\n", plain.String()[:2000])
		write(fmt.Sprintf("nb/d%d/n%d.ipynb", i%10, i), nb)
	}
	opts := inventory.Options{Catalogers: []inventory.Cataloger{References{}}}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		r, err := inventory.Scan(context.Background(), []string{dir}, opts)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(r.Findings); n < pyFiles/10*4+notebooks {
			b.Fatalf("%d findings, want at least %d", n, pyFiles/10*4+notebooks)
		}
	}
	b.ReportMetric(float64((pyFiles+notebooks)*b.N)/b.Elapsed().Seconds(), "files/s")
}
