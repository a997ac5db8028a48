package aicode

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
)

// findings catalogs one file and renders its code/ findings as
// "rule severity [cell:]line:column".
func findings(t *testing.T, name, src string) []string {
	t.Helper()
	f, err := inventory.NewFile(name, strings.NewReader(src), int64(len(src)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var s collect
	if !(References{}).Wants(f) {
		t.Fatalf("%s not wanted", name)
	}
	if err := (References{}).Catalog(context.Background(), f, &s); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range s.findings {
		if !strings.HasPrefix(x.Rule, "code/") {
			continue
		}
		if x.Evidence == "" || x.Message == "" || x.Remediation == "" || x.Path != name {
			t.Errorf("finding lacks evidence, message, remediation or path: %+v", x)
		}
		pos := fmt.Sprintf("%d:%d", x.Line, x.Column)
		if x.Cell > 0 {
			pos = fmt.Sprintf("%d:%s", x.Cell, pos)
		}
		out = append(out, x.Rule+" "+x.Severity.String()+" "+pos)
	}
	return out
}

func TestCodeRules(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		// torch.load
		{"torch_load_absent", "import torch\nm = torch.load('m.pt')\n", []string{"code/torch-load-unsafe medium 2:5"}},
		{"torch_load_false", "import torch\ntorch.load(f, weights_only=False)\n", []string{"code/torch-load-unsafe high 2:1"}},
		{"torch_load_variable", "import torch\ntorch.load(f, weights_only=safe)\n", []string{"code/torch-load-unsafe high 2:1"}},
		{"torch_load_true", "import torch\ntorch.load(f, map_location='cpu', weights_only=True)\n", nil},
		{"torch_load_alias", "import torch as t\nx = t.load(f)\n", []string{"code/torch-load-unsafe medium 2:5"}},
		{"torch_load_from_alias", "from torch import load as L\nx = L(f,\n      weights_only=False)\n", []string{"code/torch-load-unsafe high 2:5"}},
		{"torch_load_split_lines_true", "import torch\nx = torch.load(\n    f,\n    weights_only=True,\n)\n", nil},
		{"torch_load_in_string_and_comment", "import torch\ns = 'torch.load(f)'  # torch.load(f)\n", nil},
		{"other_load_not_torch", "import json\njson.load(f)\n", nil},
		{"torch_jit", "import torch\ntorch.jit.load('m.ts')\n", []string{"code/torch-jit-load medium 2:1"}},
		// pickle and friends
		{"pickle_loads", "import pickle\nobj = pickle.loads(blob)\n", []string{"code/pickle-load high 2:7"}},
		{"cpickle_alias", "import _pickle as cp\ncp.load(f)\n", []string{"code/pickle-load high 2:1"}},
		{"joblib", "import joblib\nclf = joblib.load('m.joblib')\n", []string{"code/pickle-load high 2:7"}},
		{"pandas_read_pickle", "import pandas as pd\ndf = pd.read_pickle('d.pkl')\n", []string{"code/pickle-load high 2:6"}},
		{"dill_from", "from dill import loads\nloads(b)\n", []string{"code/pickle-load high 2:1"}},
		{"numpy_allow_pickle", "import numpy as np\na = np.load('a.npy', allow_pickle=True)\n", []string{"code/pickle-load high 2:5"}},
		{"numpy_default", "import numpy as np\na = np.load('a.npy')\nb = np.load('b.npy', allow_pickle=False)\n", nil},
		{"pickle_dumps_is_fine", "import pickle\npickle.dumps(x)\n", nil},
		{"faiss_dangerous", "from langchain_community.vectorstores import FAISS\ndb = FAISS.load_local('idx', emb, allow_dangerous_deserialization=True)\n", []string{"code/pickle-load high 2:6"}},
		// hub pins
		{"from_pretrained_unpinned", "from transformers import AutoModel\nm = AutoModel.from_pretrained('org/model')\n", []string{"code/hub-unpinned medium 2:5"}},
		{"from_pretrained_branch", "from transformers import AutoModel\nm = AutoModel.from_pretrained('org/model', revision='main')\n", []string{"code/hub-unpinned medium 2:5"}},
		{"from_pretrained_pinned", "from transformers import AutoModel\nm = AutoModel.from_pretrained('org/model', revision='0123456789abcdef0123456789abcdef01234567')\n", nil},
		{"from_pretrained_local_or_variable", "from transformers import AutoModel\na = AutoModel.from_pretrained('./ckpt')\nb = AutoModel.from_pretrained(path)\nc = AutoModel.from_pretrained('/models/x')\n", nil},
		{"load_dataset_local_builder", "from datasets import load_dataset\nd = load_dataset('csv', data_files='a.csv')\n", nil},
		{"load_dataset_unpinned", "from datasets import load_dataset\nd = load_dataset('org/data')\n", []string{"code/hub-unpinned medium 2:5"}},
		// trust_remote_code
		{"trust_remote_code", "from transformers import AutoModel\nm = AutoModel.from_pretrained(\n  'org/m', revision='0123456789abcdef0123456789abcdef01234567',\n  trust_remote_code=True)\n",
			[]string{"code/trust-remote-code high 2:5"}},
		{"trust_remote_code_any_call", "x = load_thing(trust_remote_code=True)\ny = other(trust_remote_code=False)\nz = f(trust_remote_code=args.trust)\n",
			[]string{"code/trust-remote-code high 1:5", "code/trust-remote-code medium 3:5"}},
		// torch.hub
		{"torch_hub_unpinned", "import torch\nm = torch.hub.load('pytorch/vision', 'resnet18')\n", []string{"code/torch-hub-load high 2:5"}},
		{"torch_hub_tag", "import torch\nm = torch.hub.load('pytorch/vision:v0.10.0', 'resnet18')\n", []string{"code/torch-hub-load high 2:5"}},
		{"torch_hub_commit", "import torch\nm = torch.hub.load('pytorch/vision:0123456789abcdef0123456789abcdef01234567', 'resnet18')\n", []string{"code/torch-hub-load medium 2:5"}},
		{"torch_hub_local", "import torch\nm = torch.hub.load('./hub', 'resnet18', source='local')\n", nil},
		// keras
		{"keras_unsafe", "import tensorflow as tf\nm = tf.keras.models.load_model('m.keras', safe_mode=False)\n", []string{"code/keras-unsafe-load high 2:5"}},
		{"keras_safe", "import keras\nm = keras.models.load_model('m.keras')\nn = keras.saving.load_model('n.keras', safe_mode=True)\n", nil},
		{"keras_enable_unsafe", "import keras\nkeras.config.enable_unsafe_deserialization()\n", []string{"code/keras-unsafe-load high 2:1"}},
		// LangChain tools
		{"python_repl_tool", "from langchain_experimental.tools import PythonREPLTool\ntools = [PythonREPLTool()]\n", []string{"code/langchain-dangerous-tool high 2:10"}},
		{"shell_tool_alias", "from langchain_community.tools import ShellTool as S\nt = S()\n", []string{"code/langchain-dangerous-tool high 2:5"}},
		{"load_tools_terminal", "from langchain.agents import load_tools\nt = load_tools(['llm-math', 'terminal'], llm=llm)\n", []string{"code/langchain-dangerous-tool high 2:5"}},
		{"load_tools_safe", "from langchain.agents import load_tools\nt = load_tools(['llm-math', 'wikipedia'], llm=llm)\n", nil},
		{"allow_dangerous_code", "from langchain_experimental.agents import create_pandas_dataframe_agent\na = create_pandas_dataframe_agent(llm, df, allow_dangerous_code=True)\n", []string{"code/langchain-dangerous-tool high 2:5"}},
		{"not_langchain_shelltool", "from mytools import ShellTool\nShellTool()\n", nil},
		// LLM output to sinks
		{"openai_eval_direct", "from openai import OpenAI\nc = OpenAI()\nr = c.chat.completions.create(model='m', messages=[])\neval(r.choices[0].message.content)\n",
			[]string{"code/llm-output-exec critical 4:1"}},
		{"through_assignments_in_function", "import subprocess\nfrom openai import OpenAI\nclient = OpenAI()\n\ndef run(q):\n    resp = client.chat.completions.create(\n        model='m', messages=[{'role': 'user', 'content': q}])\n    cmd = resp.choices[0].message.content\n    cmd = cmd.strip()\n    full = f\"bash -c '{cmd}'\"\n    subprocess.run(full, shell=True)\n",
			[]string{"code/llm-output-exec critical 11:5"}},
		{"anthropic_exec", "import anthropic\nc = anthropic.Anthropic()\ndef f():\n    m = c.messages.create(model='x', max_tokens=9, messages=[])\n    code = m.content[0].text\n    exec(code)\n",
			[]string{"code/llm-output-exec critical 6:5"}},
		{"gemini_text_of_llm_result", "import os\ndef f(model):\n    r = model.generate_content('write a command')\n    os.system(r.text)\n", []string{"code/llm-output-exec critical 4:5"}},
		{"langchain_invoke_sql", "import sqlite3\ndef f(chain, cur):\n    q = chain.invoke({'question': x})\n    cur.execute(q)\n", []string{"code/llm-output-exec high 4:5"}},
		{"sql_parameters_are_safe", "def f(chain, cur):\n    q = chain.invoke({'question': x})\n    cur.execute('SELECT * FROM t WHERE a = ?', (q,))\n", nil},
		{"litellm_from_import", "from litellm import completion\ndef f():\n    out = completion(model='m', messages=[])\n    exec(out['choices'][0]['message']['content'])\n", []string{"code/llm-output-exec critical 4:5"}},
		{"other_function_not_tainted", "def a(client):\n    code = client.chat.completions.create().choices[0].message.content\n    return code\n\ndef b(code):\n    exec(code)\n", nil},
		{"text_of_unknown_object_not_tainted", "import os\ndef f(page):\n    os.system(page.text)\n", nil},
		{"string_mentions_only", "def f():\n    eval('resp.choices[0].message.content')\n", nil},
		{"augmented_and_tuple", "def f(llm):\n    out = llm.invoke(p)\n    s = 'print(1)\\n'\n    s += out.content\n    a, b = s, 1\n    exec(compile(a, 'x', 'exec'))\n", []string{"code/llm-output-exec critical 6:5", "code/llm-output-exec critical 6:10"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, findings(t, "app.py", tc.src)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// notebookOf builds an .ipynb of code cells (and one markdown cell first).
func notebookOf(cells ...string) string {
	type cell struct {
		CellType string   `json:"cell_type"`
		Source   []string `json:"source"`
	}
	nb := struct {
		Cells []cell `json:"cells"`
	}{Cells: []cell{{"markdown", []string{"# notes: torch.load(f)\n"}}}}
	for _, c := range cells {
		lines := strings.SplitAfter(c, "\n")
		nb.Cells = append(nb.Cells, cell{"code", lines})
	}
	b, _ := json.Marshal(nb)
	return string(b)
}

func TestNotebookRules(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"cells_and_columns", notebookOf("import torch\n", "%matplotlib inline\nx = 1\nm = torch.load('m.pt', weights_only=False)\n"),
			[]string{"code/torch-load-unsafe high 3:3:5"}},
		{"taint_across_cells", notebookOf("from openai import OpenAI\nr = OpenAI().chat.completions.create(model='m', messages=[])\n", "code = r.choices[0].message.content\n", "  \nexec(code)\n"),
			[]string{"code/llm-output-exec critical 4:2:1"}},
		{"pip_unpinned", notebookOf("!pip install -q transformers torch==2.5.1\n", "%pip install 'datasets>=2.19'\n"),
			[]string{"code/notebook-pip-unpinned medium 2:1:1", "code/notebook-pip-unpinned medium 3:1:1"}},
		{"pip_pinned", notebookOf("!pip install -q transformers==4.46.3 'torch[cuda]==2.5.1' -e . ./local\n", "!uv pip install numpy==2.1.0\n",
			"!pip install git+https://github.com/org/repo@0123456789abcdef0123456789abcdef01234567\n", "!conda install -y -c conda-forge numpy==2.1.0 scipy=1.14.1=py312h\n"), nil},
		{"pip_requirement_file", notebookOf("  !pip install -r requirements.txt\n"), []string{"code/notebook-pip-unpinned low 2:1:3"}},
		{"pip_vcs_and_conda_unpinned", notebookOf("!{sys.executable} -m pip install git+https://github.com/org/repo\n!conda install numpy=1.26\n"),
			[]string{"code/notebook-pip-unpinned medium 2:1:1", "code/notebook-pip-unpinned medium 2:2:1"}},
		{"pip_other_commands", notebookOf("!pip list\n!ls -la\n%pip freeze\n"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, findings(t, "nb.ipynb", tc.src)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}
