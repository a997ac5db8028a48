// Command chainvet vets the supply chain of AI software — model files,
// packages, code, CI, containers and agent plugins — without running any
// of it, and pins, signs and gates it.
//
// Exit codes: 0 when no finding reaches the --fail-on threshold, 1 when one
// does (for verify: drift from the lock; for diff: unapproved changes or a
// digest red flag), 2 on a usage or runtime error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// errFailOn reports that findings reached the --fail-on threshold: the
// report was written, and the exit code is 1.
var errFailOn = errors.New("findings at or above the --fail-on threshold")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	switch err := root.ExecuteContext(ctx); {
	case errors.Is(err, errFailOn):
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "chainvet: error:", err)
		var h hinted
		if errors.As(err, &h) {
			fmt.Fprintln(stderr, "chainvet: fix:", h.hint)
		}
		return 2
	}
	return 0
}

// hinted is an error with advice for the user, printed on its own line.
type hinted struct {
	err  error
	hint string
}

func (h hinted) Error() string { return h.err.Error() }
func (h hinted) Unwrap() error { return h.err }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "chainvet",
		Short:         "Vet the supply chain of AI software",
		Long:          "chainvet inventories, vets, pins, signs and gates what an AI project runs — model files, datasets, packages, code, CI, containers and agent plugins — statically: nothing it scans is ever loaded or executed.",
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return hinted{err, fmt.Sprintf("see '%s --help'", c.CommandPath())}
	})
	root.AddCommand(newScan(stdout, stderr), newBOM(stdout, stderr), newDB(stdout, stderr),
		newLock(stdout, stderr), newVerify(stdout, stderr), newDiff(stdout, stderr),
		newGate(stdout, stderr), newConfig(stdout),
		newSign(stdout, stderr), newKeygen(stdout, stderr), newAttest(stdout, stderr),
		newServe(stdout, stderr), newQuery(stdout, stderr), newToken(stdout, stderr))
	// .chainvet.yaml and CHAINVET_* environment variables set the defaults
	// of every flag the command line leaves unset.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return applyConfig(cmd) }
	return root
}

// version is the module version the binary was built from, or "devel".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
