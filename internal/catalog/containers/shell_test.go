package containers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

func TestScanShell(t *testing.T) {
	type hit struct {
		Kind RiskKind
		Off  int
	}
	tests := []struct {
		name   string
		script string
		want   []hit
	}{
		{name: "curl_pipe_sh", script: "curl -fsSL https://x/i.sh | sh", want: []hit{{PipeToShell, 0}}},
		{name: "wget_pipe_sudo_bash", script: "set -e\nwget -qO- https://x | sudo -E bash -s -- -y", want: []hit{{PipeToShell, 7}}},
		{name: "curl_through_tee", script: "curl -s https://x | tee i.sh | python3", want: []hit{{PipeToShell, 0}}},
		{name: "continuation", script: "curl -s https://x \\\n  | sh", want: []hit{{PipeToShell, 0}}},
		{name: "process_substitution", script: "bash <(curl -s https://x)", want: []hit{{PipeToShell, 0}}},
		{name: "command_substitution", script: `sh -c "$(curl -fsSL https://x)"`, want: []hit{{PipeToShell, 0}}},
		{name: "source_subst", script: "echo; source <(curl -s https://x)", want: []hit{{PipeToShell, 6}}},
		{name: "powershell_iex", script: "iex (iwr https://x/i.ps1)", want: []hit{{PipeToShell, 0}}},
		{name: "powershell_pipe", script: "irm https://x/i.ps1 | iex", want: []hit{{PipeToShell, 0}}},
		{name: "webclient", script: "IEX (New-Object Net.WebClient).DownloadString('https://x')", want: []hit{{PipeToShell, 0}}},
		{name: "or_is_not_pipe", script: "curl -s https://x || sh fallback.sh"},
		{name: "curl_to_file", script: "curl -o i.sh https://x && sha256sum -c i.sum && sh i.sh"},
		{name: "pip_unpinned", script: "pip install -U transformers", want: []hit{{UnpinnedInstall, 0}}},
		{name: "pip_range", script: "python3 -m pip install 'torch>=2'", want: []hit{{UnpinnedInstall, 0}}},
		{name: "pip_pinned", script: "pip install torch==2.5.1 'numpy[x]==2.1.0'"},
		{name: "pip_requirements", script: "pip install -r requirements.txt"},
		{name: "pip_hashes", script: "pip install --require-hashes -r r.txt foo"},
		{name: "pip_constraint", script: "pip install -c constraints.txt foo"},
		{name: "pip_git_branch", script: "pip install git+https://github.com/o/r.git@main", want: []hit{{UnpinnedInstall, 0}}},
		{name: "pip_git_commit", script: "pip install git+https://github.com/o/r.git@0b93645e9fea5318e8bc6e0eb6f3f2b7c1e96bbb"},
		{name: "pip_editable_local", script: "pip install -e ."},
		{name: "uv_pip", script: "cd x; uv pip install ruff", want: []hit{{UnpinnedInstall, 6}}},
		{name: "pip_variable", script: "pip install $PKG ${{ matrix.pkg }}"},
		{name: "echo_is_not_install", script: "echo pip install x"},
		{name: "comment", script: "# pip install x\nmake"},
		{name: "npm_install_bare", script: "npm install", want: []hit{{UnpinnedInstall, 0}}},
		{name: "npm_ci", script: "npm ci"},
		{name: "npm_global_pinned", script: "npm install -g left-pad@1.3.0"},
		{name: "npm_global_range", script: "npm i -g left-pad@^1", want: []hit{{UnpinnedInstall, 0}}},
		{name: "yarn_add", script: "yarn add react", want: []hit{{UnpinnedInstall, 0}}},
		{name: "npx_unpinned", script: "npx -y cowsay hi", want: []hit{{UnpinnedInstall, 0}}},
		{name: "npx_pinned", script: "npx cowsay@1.6.0 hi"},
		{name: "npx_package_flag", script: "npx -p @scope/tool@2.0.0 tool"},
		{name: "pnpm_dlx", script: "pnpm dlx create-app", want: []hit{{UnpinnedInstall, 0}}},
		{name: "hf_download", script: "huggingface-cli download org/m", want: []hit{{UnpinnedModel, 0}}},
		{name: "hf_branch_revision", script: "hf download org/m --revision main", want: []hit{{UnpinnedModel, 0}}},
		{name: "hf_commit", script: "hf download org/m --revision=607a30d783dfa663caf39e06633721c8d4cfcd7e"},
		{name: "git_clone_hub", script: "git clone https://huggingface.co/org/m", want: []hit{{UnpinnedModel, 0}}},
		{name: "git_clone_hub_checkout", script: "git clone https://huggingface.co/org/m\ngit -C m checkout 607a30d783dfa663caf39e06633721c8d4cfcd7e"},
		{name: "git_clone_github", script: "git clone https://github.com/o/r"},
		{name: "resolve_main", script: "wget https://huggingface.co/o/m/resolve/main/model.safetensors", want: []hit{{UnpinnedModel, 5}}},
		{name: "resolve_commit", script: "wget https://hf.co/o/m/resolve/607a30d783dfa663caf39e06633721c8d4cfcd7e/model.safetensors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []hit
			for _, r := range ScanShell(tc.script) {
				got = append(got, hit{r.Kind, r.Off})
				if r.Evidence == "" || r.Fix == "" || r.Detail == "" {
					t.Errorf("risk lacks evidence, detail or fix: %+v", r)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ScanShell(%q) (-want +got):\n%s", tc.script, diff)
			}
		})
	}
}

func TestCutStripsCredentials(t *testing.T) {
	got := Cut("pip install -i https://user:s3cret@pypi.example.com/simple?token=abc x " + strings.Repeat("y", 200))
	if strings.Contains(got, "s3cret") || strings.Contains(got, "abc") || len(got) > MaxEvidence+len("…") {
		t.Errorf("Cut = %q", got)
	}
}

func FuzzShell(f *testing.F) {
	for _, s := range []string{"curl x | sh", "pip install a b==1 -r r", "npx -p", "bash <(curl x)", "iex (iwr x)", "git clone https://huggingface.co/a/b"} {
		f.Add(s)
	}
	paths, _ := filepath.Glob("../../../testdata/ci/docker/*/Dockerfile")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range ScanShell(s) {
			if r.Off < 0 || r.Off > len(s) || len(r.Evidence) > MaxEvidence+len("…") {
				t.Errorf("bad risk %+v for %q", r, s)
			}
			if utf8.ValidString(s) && !utf8.ValidString(r.Evidence) {
				t.Errorf("evidence %q is not UTF-8", r.Evidence)
			}
		}
	})
}

// BenchmarkWorstCase catalogs a 1 MiB Dockerfile of one RUN instruction
// continued over 70000 lines, each a curl | sh: the most findings and
// line mappings one file can ask for.
func BenchmarkWorstCase(b *testing.B) {
	text := "FROM a@sha256:" + strings.Repeat("a", 64) + "\nRUN " + strings.Repeat("curl x | sh \\\n", 70000) + "\n"
	for b.Loop() {
		file, err := inventory.NewFile("Dockerfile", strings.NewReader(text), int64(len(text)), nil)
		if err != nil {
			b.Fatal(err)
		}
		var s sink
		if err := (Dockerfile{}).Catalog(context.Background(), file, &s); err != nil {
			b.Fatal(err)
		}
		if len(s.findings) == 0 {
			b.Fatal("no findings")
		}
	}
}

// TestNoCredentialsInRisks: URLs with credentials on a command line never
// reach evidence, detail or fix.
func TestNoCredentialsInRisks(t *testing.T) {
	for _, script := range []string{
		"pip install git+https://u:s3cret@git.example/r.git",
		"npm install https://u:s3cret@reg.example/p.tgz",
		"npx https://u:s3cret@reg.example/p.tgz",
		"curl https://u:s3cret@x.example/i.sh | sh",
		"git clone https://u:s3cret@huggingface.co/o/m",
		"wget https://u:s3cret@huggingface.co/o/m/resolve/main/x.bin",
	} {
		rs := ScanShell(script)
		if len(rs) == 0 {
			t.Errorf("%q: no risk", script)
		}
		for _, r := range rs {
			if strings.Contains(r.Evidence+r.Detail+r.Fix, "s3cret") {
				t.Errorf("%q: credentials in %+v", script, r)
			}
		}
	}
}
