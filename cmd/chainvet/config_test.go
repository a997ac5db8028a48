package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

// probe is a command with a flag of every kind, whose run records the
// values it was given.
type probe struct {
	failOn, db, need string
	count            int
	fast             bool
	wait             time.Duration
	from, tags       []string
	ran              string
}

func (p *probe) add(root *cobra.Command) {
	c := &cobra.Command{Use: "probe [PATH]", RunE: func(cmd *cobra.Command, _ []string) error { p.ran = "probe"; return nil }}
	fl := c.Flags()
	fl.StringVar(&p.failOn, "fail-on", "high", "")
	fl.IntVar(&p.count, "count", 1, "")
	fl.BoolVar(&p.fast, "fast", false, "")
	fl.DurationVar(&p.wait, "wait", time.Minute, "")
	fl.StringArrayVar(&p.from, "from", nil, "")
	fl.StringSliceVar(&p.tags, "tags", []string{"x"}, "")
	c.PersistentFlags().StringVar(&p.db, "db", "", "")
	c.PersistentFlags().String("config", "", "")
	sub := &cobra.Command{Use: "sub", RunE: func(cmd *cobra.Command, _ []string) error { p.ran = "probe sub"; return nil }}
	sub.Flags().StringVar(&p.need, "need", "", "")
	sub.MarkFlagRequired("need")
	c.AddCommand(sub)
	root.AddCommand(c)
}

// runConfigured runs a command line as run does, with applyConfig wired
// and the config command added, in dir; extra adds test commands.
func runConfigured(t *testing.T, dir string, env map[string]string, extra func(*cobra.Command), args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Chdir(dir)
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	root.AddCommand(newConfig(&out))
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return applyConfig(cmd) }
	if extra != nil {
		extra(root)
	}
	root.SetArgs(args)
	switch err := root.ExecuteContext(context.Background()); {
	case errors.Is(err, errFailOn):
		code = 1
	case err != nil:
		fmt.Fprintln(&errb, "chainvet: error:", err)
		var h hinted
		if errors.As(err, &h) {
			fmt.Fprintln(&errb, "chainvet: fix:", h.hint)
		}
		code = 2
	}
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConfigPrecedence(t *testing.T) {
	type values struct {
		FailOn, DB, Need string
		Count            int
		Fast             bool
		Wait             time.Duration
		From, Tags       []string
	}
	def := values{FailOn: "high", Count: 1, Wait: time.Minute, Tags: []string{"x"}}
	with := func(f func(*values)) values { v := def; f(&v); return v }
	tests := []struct {
		name  string
		file  string // .chainvet.yaml in the working directory
		other string // other.yaml beside it
		env   map[string]string
		args  []string
		want  values
	}{
		{name: "built_in_default", args: []string{"probe"}, want: def},
		{name: "file_top_level", file: "fail-on: low\ncount: 3\nfast: true\nwait: 2s\n", args: []string{"probe"},
			want: with(func(v *values) { v.FailOn, v.Count, v.Fast, v.Wait = "low", 3, true, 2*time.Second })},
		{name: "file_section_beats_top_level", file: "fail-on: low\nprobe:\n  fail-on: medium\n", args: []string{"probe"},
			want: with(func(v *values) { v.FailOn = "medium" })},
		{name: "top_level_reaches_commands_without_the_flag_elsewhere", file: "output: json\nfail-on: low\n", args: []string{"probe"},
			want: with(func(v *values) { v.FailOn = "low" })},
		{name: "env_beats_file", file: "probe:\n  fail-on: medium\n", env: map[string]string{"CHAINVET_FAIL_ON": "critical"}, args: []string{"probe"},
			want: with(func(v *values) { v.FailOn = "critical" })},
		{name: "command_env_beats_generic_env", env: map[string]string{"CHAINVET_FAIL_ON": "critical", "CHAINVET_PROBE_FAIL_ON": "info"}, args: []string{"probe"},
			want: with(func(v *values) { v.FailOn = "info" })},
		{name: "empty_env_is_unset", file: "fail-on: low\n", env: map[string]string{"CHAINVET_FAIL_ON": ""}, args: []string{"probe"},
			want: with(func(v *values) { v.FailOn = "low" })},
		{name: "flag_beats_env_and_file", file: "fail-on: low\n", env: map[string]string{"CHAINVET_FAIL_ON": "critical"}, args: []string{"probe", "--fail-on", "none"},
			want: with(func(v *values) { v.FailOn = "none" })},
		{name: "list_from_file_replaces_default", file: "from: [a, b]\ntags: [p, q]\n", args: []string{"probe"},
			want: with(func(v *values) { v.From, v.Tags = []string{"a", "b"}, []string{"p", "q"} })},
		{name: "scalar_for_a_list_flag", file: "from: a\n", args: []string{"probe"},
			want: with(func(v *values) { v.From = []string{"a"} })},
		{name: "list_from_env_split_on_commas", file: "from: [z]\n", env: map[string]string{"CHAINVET_PROBE_FROM": "a,b"}, args: []string{"probe"},
			want: with(func(v *values) { v.From = []string{"a", "b"} })},
		{name: "list_flag_beats_file", file: "from: [a, b]\n", args: []string{"probe", "--from", "c"},
			want: with(func(v *values) { v.From = []string{"c"} })},
		{name: "parent_section_sets_inherited_flag", file: "probe:\n  db: x.db\n", args: []string{"probe", "sub", "--need", "n"},
			want: with(func(v *values) { v.DB, v.Need = "x.db", "n" })},
		{name: "subcommand_section_beats_parent", file: "db: top.db\nprobe:\n  db: x.db\n  sub:\n    db: y.db\n    need: n\n", args: []string{"probe", "sub"},
			want: with(func(v *values) { v.DB, v.Need = "y.db", "n" })},
		{name: "subcommand_env", env: map[string]string{"CHAINVET_PROBE_SUB_NEED": "e", "CHAINVET_PROBE_DB": "p.db"}, args: []string{"probe", "sub"},
			want: with(func(v *values) { v.DB, v.Need = "p.db", "e" })},
		{name: "config_flag_names_the_file", file: "fail-on: low\n", other: "fail-on: medium\n", args: []string{"probe", "--config", "other.yaml"},
			want: with(func(v *values) { v.FailOn = "medium" })},
		{name: "config_env_names_the_file", file: "fail-on: low\n", other: "fail-on: medium\n", env: map[string]string{"CHAINVET_CONFIG": "other.yaml"}, args: []string{"probe"},
			want: with(func(v *values) { v.FailOn = "medium" })},
		{name: "file_in_first_path_beats_working_directory", file: "fail-on: low\n", other: "fail-on: medium\n", args: []string{"probe", "proj"},
			want: with(func(v *values) { v.FailOn = "medium" })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				writeFile(t, filepath.Join(dir, ".chainvet.yaml"), tc.file)
			}
			if tc.other != "" {
				writeFile(t, filepath.Join(dir, "other.yaml"), tc.other)
				writeFile(t, filepath.Join(dir, "proj", ".chainvet.yaml"), tc.other)
			}
			var p probe
			code, _, stderr := runConfigured(t, dir, tc.env, p.add, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			got := values{p.failOn, p.db, p.need, p.count, p.fast, p.wait, p.from, p.tags}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want []string // in stderr
	}{
		{"bad_int_in_file", "probe:\n  count: many\n", nil, []string{"probe"},
			[]string{".chainvet.yaml:2: --count \"many\"", "fix .chainvet.yaml:2"}},
		{"bad_bool_in_file", "fast: maybe\n", nil, []string{"probe"}, []string{".chainvet.yaml:1: --fast \"maybe\""}},
		{"bad_duration_in_env", "", map[string]string{"CHAINVET_WAIT": "soon"}, []string{"probe"},
			[]string{"CHAINVET_WAIT: --wait \"soon\"", "fix CHAINVET_WAIT"}},
		{"list_for_a_single_value", "count: [1, 2]\n", nil, []string{"probe"}, []string{".chainvet.yaml:1: --count", "takes one value"}},
		{"unknown_flag", "colour: never\n", nil, []string{"probe"}, []string{".chainvet.yaml:1: unknown flag \"colour\": not a flag of any command"}},
		{"misspelt_owners", "owner:\n  - match: a\n", nil, []string{"probe"}, []string{".chainvet.yaml:1: owner: want a list of strings (rules go under owners)"}},
		{"flag_of_no_command", "x: 1\nprobe:\n  fast: true\n", nil, []string{"probe"}, []string{".chainvet.yaml:1: unknown flag \"x\""}},
		{"section_in_wrong_place", "probe:\n  fast: true\nsub:\n  need: n\n", nil, []string{"probe"}, []string{".chainvet.yaml:3: unknown command \"sub\""}},
		{"flag_not_in_section", "probe:\n  output: json\n", nil, []string{"probe"}, []string{".chainvet.yaml:2: unknown flag \"output\": not a flag of chainvet probe"}},
		{"unknown_command", "sacn:\n  output: json\n", nil, []string{"probe"}, []string{".chainvet.yaml:1: unknown command \"sacn\""}},
		{"null_value", "fail-on:\n", nil, []string{"probe"}, []string{".chainvet.yaml:1: fail-on: no value"}},
		{"duplicate_key", "fail-on: low\nfail-on: high\n", nil, []string{"probe"}, []string{".chainvet.yaml:"}},
		{"syntax", "fail-on: [low\n", nil, []string{"probe"}, []string{".chainvet.yaml:", "yaml:"}},
		{"not_a_mapping", "- fail-on\n", nil, []string{"probe"}, []string{".chainvet.yaml:1: want a mapping"}},
		{"missing_config_flag_file", "", nil, []string{"probe", "--config", "nope.yaml"}, []string{"nope.yaml", "check --config"}},
		{"missing_config_env_file", "", map[string]string{"CHAINVET_CONFIG": "nope.yaml"}, []string{"probe"}, []string{"nope.yaml", "check CHAINVET_CONFIG"}},
		{"bad_value_for_real_command", "scan:\n  max-archive-depth: deep\n", nil, []string{"probe"}, []string{".chainvet.yaml:2: --max-archive-depth \"deep\""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				writeFile(t, filepath.Join(dir, ".chainvet.yaml"), tc.file)
			}
			var p probe
			args := tc.args
			if tc.name == "bad_value_for_real_command" {
				args = []string{"scan", "--no-advisories", dir}
			}
			code, _, stderr := runConfigured(t, dir, tc.env, p.add, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			if p.ran != "" {
				t.Errorf("%s ran despite the bad config", p.ran)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestConfigScan runs the real scan command with defaults from the file
// and the environment, and checks that ownership rules in the same file
// still apply.
func TestConfigScan(t *testing.T) {
	bad, err := filepath.Abs(filepath.Join("..", "..", "examples", "models", "downloaded"))
	if err != nil {
		t.Fatal(err)
	}
	const file = "fail-on: none\nno-advisories: true\nscan:\n  output: json\nowners:\n  - match: \"**\"\n    owner: team-ml\n"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"file_fail_on_none", nil, []string{"scan", bad}, 0},
		{"env_beats_file", map[string]string{"CHAINVET_SCAN_FAIL_ON": "high"}, []string{"scan", bad}, 1},
		{"flag_beats_env", map[string]string{"CHAINVET_SCAN_FAIL_ON": "high"}, []string{"scan", "--fail-on", "none", bad}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, ".chainvet.yaml"), file)
			code, stdout, stderr := runConfigured(t, dir, tc.env, nil, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			var rep struct {
				Components []struct {
					Properties map[string]string `json:"properties"`
				} `json:"components"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("output is not the JSON the file asked for: %v\n%s", err, stdout)
			}
			if len(rep.Components) == 0 || rep.Components[0].Properties["owner"] != "team-ml" {
				t.Errorf("ownership from the same file not applied: %+v", rep.Components)
			}
		})
	}
}

func TestConfigShow(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".chainvet.yaml"),
		"fail-on: low\nprobe:\n  from: [a, b]\n  sub:\n    need: n\nowners:\n  - match: \"**\"\n    owner: team-ml\n")
	env := map[string]string{"CHAINVET_PROBE_COUNT": "7"}
	t.Run("table", func(t *testing.T) {
		var p probe
		code, stdout, stderr := runConfigured(t, dir, env, p.add, "config", "show", "probe")
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if want := "config: .chainvet.yaml (found; 1 owners rules)"; lines[0] != want {
			t.Errorf("first line %q, want %q", lines[0], want)
		}
		var got []string
		for _, l := range lines[1:] {
			got = append(got, strings.Join(strings.Fields(l), " "))
		}
		want := []string{
			"COMMAND FLAG VALUE ORIGIN",
			"probe count 7 env CHAINVET_PROBE_COUNT",
			"probe db \"\" default",
			"probe fail-on low file .chainvet.yaml:1",
			"probe fast false default",
			"probe from a,b file .chainvet.yaml:3",
			"probe tags [x] default",
			"probe wait 1m0s default",
			"probe sub db \"\" default",
			"probe sub need n file .chainvet.yaml:5",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("table (-want +got):\n%s", diff)
		}
	})
	t.Run("json", func(t *testing.T) {
		var p probe
		code, stdout, stderr := runConfigured(t, dir, env, p.add, "config", "show", "-o", "json", "probe", "sub")
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		var got shownConfig
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		want := shownConfig{File: ".chainvet.yaml", FoundBy: "found", Owners: 1, Settings: []shownSetting{
			{Command: "probe sub", Flag: "db", Value: "", Origin: "default"},
			{Command: "probe sub", Flag: "need", Value: "n", Origin: "file", Source: ".chainvet.yaml:5"},
		}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("json (-want +got):\n%s", diff)
		}
	})
	t.Run("config_flag_and_real_commands", func(t *testing.T) {
		other := t.TempDir()
		writeFile(t, filepath.Join(other, "ci.yaml"), "db:\n  update:\n    from: [https://mirror.example/PyPI/all.zip]\n")
		code, stdout, stderr := runConfigured(t, dir, nil, nil, "config", "show", "--config", filepath.Join(other, "ci.yaml"), "-o", "json")
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		var got shownConfig
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		if got.FoundBy != "--config" || got.Owners != 0 {
			t.Errorf("file %q found by %q with %d owners", got.File, got.FoundBy, got.Owners)
		}
		seen := map[string]shownSetting{}
		for _, s := range got.Settings {
			seen[s.Command+" --"+s.Flag] = s
		}
		if s := seen["db update --from"]; s.Origin != "file" || !cmp.Equal(s.Values, []string{"https://mirror.example/PyPI/all.zip"}) {
			t.Errorf("db update --from = %+v", s)
		}
		if s := seen["scan --fail-on"]; s.Origin != "default" || s.Value != "high" {
			t.Errorf("scan --fail-on = %+v", s)
		}
		if _, ok := seen["config show --output"]; ok {
			t.Error("config show lists itself")
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, args := range [][]string{{"config", "show", "nosuch"}, {"config", "show", "-o", "yaml"}} {
			if code, _, _ := runConfigured(t, dir, nil, nil, args...); code != 2 {
				t.Errorf("%v: exit %d, want 2", args, code)
			}
		}
	})
	t.Run("no_file", func(t *testing.T) {
		code, stdout, _ := runConfigured(t, t.TempDir(), nil, nil, "config", "show", "scan")
		if code != 0 || !strings.HasPrefix(stdout, "config: none") || !strings.Contains(stdout, "scan") {
			t.Errorf("exit %d, output:\n%s", code, stdout)
		}
	})
}
