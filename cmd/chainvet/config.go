package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/chainvet/chainvet/internal/config"
	"github.com/chainvet/chainvet/internal/ownership"
)

// configFlag names the file; it is found before any other flag is
// resolved, so the file itself never sets it.
const configFlag = "config"

// argsAreCommands marks a command whose arguments are command names, not
// paths to look for a config in.
const argsAreCommands = "chainvet/args-are-commands"

// foundBy annotates a --config that loadConfig set with how it found the file.
const foundBy = "chainvet/found-by"

// skipFlags are never set from the environment or the file.
var skipFlags = map[string]bool{"help": true, "version": true, configFlag: true}

// applyConfig gives every flag of the running command that the command
// line left unset its value from the environment or .chainvet.yaml; it is
// the root's PersistentPreRunE. Values go through the flag's own Set, so
// a bad one is refused as it would be on the command line, with the
// variable or file:line that gave it.
func applyConfig(cmd *cobra.Command) error {
	return applyConfigEnv(cmd, os.LookupEnv)
}

func applyConfigEnv(cmd *cobra.Command, env config.Env) error {
	file, _, err := loadConfig(cmd, env)
	if err != nil {
		return err
	}
	path := commandPath(cmd)
	fs := cmd.Flags()
	var first error
	fs.VisitAll(func(fl *pflag.Flag) {
		if first != nil || skipFlags[fl.Name] {
			return
		}
		sv, list := fl.Value.(pflag.SliceValue)
		s := config.Resolve(file, env, path, fl.Name, fl.Changed, list, fl.Value.String())
		var err error
		switch {
		case s.Origin != config.FromEnv && s.Origin != config.FromFile:
			return
		case list:
			if err = sv.Replace(s.List); err == nil {
				fl.Changed = true
			}
		case s.IsList:
			err = errors.New("takes one value, not a list")
		default:
			err = fs.Set(fl.Name, s.Value)
		}
		if err != nil {
			first = hinted{
				fmt.Errorf("%s: --%s %q: %w", s.Source, fl.Name, s.Value, err),
				fmt.Sprintf("fix %s, or see '%s --help'", s.Source, cmd.CommandPath()),
			}
		}
	})
	return first
}

// loadConfig finds, loads and checks the config of the running command:
// --config; else CHAINVET_CONFIG; else .chainvet.yaml in the first PATH
// (its directory, for a file), as the ownership rules have always been
// found; else .chainvet.yaml in the current directory. It returns a nil
// file when there is none. A command with a --config flag that was not
// given gets the file found, so that the ownership rules come from the
// same file as the defaults.
func loadConfig(cmd *cobra.Command, env config.Env) (*config.File, string, error) {
	fs := cmd.Flags()
	fl := fs.Lookup(configFlag)
	name, how := "", ""
	if fl != nil && fl.Changed {
		name, how = fl.Value.String(), "--config"
		if by := fl.Annotations[foundBy]; len(by) == 1 {
			how = by[0] // set by an earlier call
		}
	}
	if name == "" {
		for _, v := range config.EnvNames(commandPath(cmd), configFlag) {
			if s, ok := env(v); ok && s != "" {
				name, how = s, v
				break
			}
		}
	}
	if name == "" {
		var dirs []string
		if args := fs.Args(); len(args) > 0 && cmd.Annotations[argsAreCommands] == "" {
			if fi, err := os.Stat(args[0]); err == nil {
				d := args[0]
				if !fi.IsDir() {
					d = filepath.Dir(d)
				}
				dirs = append(dirs, d)
			}
		}
		p, err := config.Find(append(dirs, ".")...)
		if errors.Is(err, config.ErrNotFound) {
			return nil, "", nil
		}
		name, how = p, "found"
	}
	file, err := config.Load(name)
	if err != nil {
		hint := "fix the file, or name another with --config"
		if how != "found" {
			hint = fmt.Sprintf("check %s, which named it", how)
		}
		return nil, "", hinted{fmt.Errorf("config: %w", err), hint}
	}
	if err := file.Check(cobraTree{cmd.Root()}); err != nil {
		return nil, "", hinted{fmt.Errorf("config: %w", err), "remove the key, or spell the command or flag as 'chainvet config show' lists them"}
	}
	if fl != nil && !fl.Changed {
		if err := fs.Set(configFlag, name); err != nil {
			return nil, "", err
		}
		if fl.Annotations == nil {
			fl.Annotations = map[string][]string{}
		}
		fl.Annotations[foundBy] = []string{how}
	}
	return file, how, nil
}

// commandPath is cmd's path below the root: "", "scan", "db update".
func commandPath(cmd *cobra.Command) string {
	p := cmd.CommandPath()
	if i := strings.IndexByte(p, ' '); i >= 0 {
		return p[i+1:]
	}
	return ""
}

// cobraTree tells config.File.Check which commands and flags exist.
type cobraTree struct{ root *cobra.Command }

func (t cobraTree) find(path string) *cobra.Command {
	c := t.root
	for _, name := range strings.Fields(path) {
		var next *cobra.Command
		for _, sub := range c.Commands() {
			if sub.Name() == name {
				next = sub
				break
			}
		}
		if next == nil {
			return nil
		}
		c = next
	}
	return c
}

func (t cobraTree) Command(path string) bool { return t.find(path) != nil }

func (t cobraTree) Flag(path, flag string) bool {
	c := t.find(path)
	if c == nil || skipFlags[flag] {
		return false
	}
	found := false
	walk(c, func(c *cobra.Command) {
		if !found && allFlags(c).Lookup(flag) != nil {
			found = true
		}
	})
	return found
}

// walk calls fn on c and every command below it, in name order.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// allFlags is c's flags with the persistent flags it inherits, whether or
// not c has run.
func allFlags(c *cobra.Command) *pflag.FlagSet {
	c.InheritedFlags() // merges the parents' persistent flags into Flags
	return c.Flags()
}

// shownSetting is one line of 'config show'.
type shownSetting struct {
	Command string        `json:"command"`
	Flag    string        `json:"flag"`
	Value   string        `json:"value"`
	Values  []string      `json:"values,omitempty"`
	Origin  config.Origin `json:"origin"`
	Source  string        `json:"source,omitempty"`
}

// shownConfig is the JSON form of 'config show'.
type shownConfig struct {
	File     string         `json:"file,omitempty"`
	FoundBy  string         `json:"foundBy,omitempty"`
	Owners   int            `json:"owners"`
	Settings []shownSetting `json:"settings"`
}

func newConfig(stdout io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Show the configuration that commands run with",
		Long: `Every flag of every command can be given a default in .chainvet.yaml or
in the environment (CHAINVET_<COMMAND>_<FLAG>, CHAINVET_<FLAG>); a flag on
the command line beats the environment, which beats the file, which beats
the built-in default.`,
	}
	var format, file string
	show := &cobra.Command{
		Use:   "show [COMMAND...]",
		Short: "Print every command's effective flag values and where each comes from",
		Example: `  chainvet config show
  chainvet config show gate
  chainvet config show --config ci/.chainvet.yaml -o json`,
		Annotations: map[string]string{argsAreCommands: "yes"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConfigShow(cmd, args, format, stdout, os.LookupEnv)
		},
	}
	show.Flags().StringVarP(&format, "output", "o", "table", "format: table or json")
	show.Flags().StringVar(&file, configFlag, "", "config file (default: .chainvet.yaml in the current directory, if there is one)")
	c.AddCommand(show)
	return c
}

func runConfigShow(cmd *cobra.Command, args []string, format string, stdout io.Writer, env config.Env) error {
	if format != "table" && format != "json" {
		return hinted{fmt.Errorf("unknown format %q", format), "use -o table or -o json"}
	}
	tree := cobraTree{cmd.Root()}
	prefix := strings.Join(args, " ")
	if prefix != "" && !tree.Command(prefix) {
		return hinted{fmt.Errorf("unknown command %q", prefix), "see 'chainvet --help' for the commands"}
	}
	file, how, err := loadConfig(cmd, env)
	if err != nil {
		return err
	}
	out := shownConfig{Settings: []shownSetting{}}
	if file != nil {
		out.File, out.FoundBy = file.Path, how
		own, err := ownership.Load(file.Path)
		if err != nil {
			return hinted{fmt.Errorf("config: %w", err), "fix the owners rules (see 'Ownership' in the README)"}
		}
		out.Owners = len(own.Rules)
	}
	self := commandPath(cmd)
	walk(cmd.Root(), func(c *cobra.Command) {
		path := commandPath(c)
		if !c.Runnable() || path == self || c.Name() == "help" || c.Name() == "completion" ||
			prefix != "" && path != prefix && !strings.HasPrefix(path, prefix+" ") {
			return
		}
		allFlags(c).VisitAll(func(fl *pflag.Flag) {
			if skipFlags[fl.Name] {
				return
			}
			_, list := fl.Value.(pflag.SliceValue)
			s := config.Resolve(file, env, path, fl.Name, false, list, fl.DefValue)
			row := shownSetting{Command: path, Flag: fl.Name, Value: s.Value, Origin: s.Origin, Source: s.Source}
			if s.IsList {
				row.Values = s.List
			}
			out.Settings = append(out.Settings, row)
		})
	})
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	switch {
	case file == nil:
		fmt.Fprintf(stdout, "config: none (no %s here; give one with --config)\n", config.FileName)
	default:
		fmt.Fprintf(stdout, "config: %s (%s; %d owners rules)\n", file.Path, how, out.Owners)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMMAND\tFLAG\tVALUE\tORIGIN")
	for _, s := range out.Settings {
		origin := string(s.Origin)
		if s.Source != "" {
			origin += " " + s.Source
		}
		v := s.Value
		if v == "" || strings.ContainsAny(v, " \t") {
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Command, s.Flag, v, origin)
	}
	return tw.Flush()
}
