package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// adminScope names the token the token commands need, for messages.
const adminScope = "an admin token"

// tokenForbidden is the advice for a 403 to a token command.
const tokenForbidden = "an admin token limited to a project manages that project's tokens only: use an unlimited admin token, or give that --project"

// serverToken is a token as the server shows it (GET /api/v1/tokens,
// and the answers of POST and DELETE).
type serverToken struct {
	Token   string    `json:"token,omitempty"` // the secret, in the answer to POST only
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Scope   string    `json:"scope"`
	Project string    `json:"project,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
	Revoked time.Time `json:"revoked,omitzero"`
}

// describe says what t is, for a line on the terminal.
func (t serverToken) describe() string {
	project := "every project"
	if t.Project != "" {
		project = "project " + printable(t.Project)
	}
	expires := "never expires"
	if !t.Expires.IsZero() {
		expires = "expires " + t.Expires.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s (%q, scope %s, %s, %s)", printable(t.ID), printable(t.Name), printable(t.Scope), project, expires)
}

func newToken(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make, list and revoke the API tokens of a chainvet server",
		Long: `token manages the API tokens of a chainvet server (chainvet serve) through
its API. Each command needs an admin token, in --token or $CHAINVET_TOKEN;
one limited to a project manages that project's tokens only.`,
	}
	cmd.AddCommand(newTokenCreate(stdout, stderr), newTokenList(stdout), newTokenRevoke(stdout, stderr))
	return cmd
}

// tokenCreateFlags are chainvet token create's flags.
type tokenCreateFlags struct {
	serverFlags
	name, scope, project string
	ttl, expires, output string
}

func newTokenCreate(stdout, stderr io.Writer) *cobra.Command {
	var f tokenCreateFlags
	cmd := &cobra.Command{
		Use:   "create --name NAME --scope read|push|admin",
		Short: "Make a token; print its secret",
		Long: `Create makes a token and prints its secret alone on standard output, and
its id, scope, project and expiry on standard error. The server keeps only
the secret's SHA-256: it is shown this once. -o json prints the server's
whole answer instead.

A token has a scope: read < push < admin. With --project it reads and
pushes that project only. It never expires unless given --ttl (a duration
from now: 720h) or --expires (an RFC 3339 time), at most two years away.`,
		Example: `  export CHAINVET_TOKEN=$(cat admin.token)
  chainvet token create --server http://127.0.0.1:8080 --name ci-web --scope push --project web --ttl 720h
  CI_TOKEN=$(chainvet token create --server http://fleet:8080 --name reader --scope read)`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), stdout, stderr)
		},
	}
	fl := cmd.Flags()
	f.add(fl, adminScope)
	fl.StringVar(&f.name, "name", "", "name of the token, such as the job or person that uses it")
	fl.StringVar(&f.scope, "scope", "", "scope of the token: read, push or admin")
	fl.StringVar(&f.project, "project", "", "limit the token to this project (default: every project)")
	fl.StringVar(&f.ttl, "ttl", "", "expire the token this long from now, such as 720h")
	fl.StringVar(&f.expires, "expires", "", "expire the token at this RFC 3339 time, such as 2027-01-31T00:00:00Z")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text (the secret) or json")
	return cmd
}

func (f tokenCreateFlags) run(ctx context.Context, stdout, stderr io.Writer) error {
	switch {
	case f.name == "":
		return hinted{errors.New("token create: no --name"), "name the token after who uses it: --name ci-web"}
	case f.scope != "read" && f.scope != "push" && f.scope != "admin":
		return hinted{fmt.Errorf("token create: scope %q", f.scope), "give --scope read, push or admin"}
	case f.ttl != "" && f.expires != "":
		return hinted{errors.New("token create: --ttl and --expires both given"), "give one of them, or neither for a token that never expires"}
	case f.output != "text" && f.output != "json":
		return hinted{fmt.Errorf("token create: unknown output %q", f.output), "use -o text or -o json"}
	}
	c, err := f.client("token create", adminScope, apiTimeout)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]string{"name": f.name, "scope": f.scope, "project": f.project, "ttl": f.ttl, "expires": f.expires})
	if err != nil {
		return err
	}
	b, err := c.do(ctx, http.MethodPost, "api/v1/tokens", bytes.NewReader(body), int64(len(body)), "application/json")
	if err != nil {
		err = c.fail(err, "", tokenForbidden)
		if isStatus(err, http.StatusBadRequest) {
			return hinted{err, "see 'chainvet token create --help'"}
		}
		return err
	}
	if f.output == "json" {
		return writeIndented(stdout, b)
	}
	var t serverToken
	if err := json.Unmarshal(b, &t); err != nil || t.Token == "" {
		return fmt.Errorf("token create: the server's answer holds no token: %v", err)
	}
	if _, err := fmt.Fprintln(stdout, t.Token); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "chainvet: made token %s; its secret is shown this once\n", t.describe())
	return nil
}

func newTokenList(stdout io.Writer) *cobra.Command {
	var (
		f      serverFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the tokens, revoked and expired ones included",
		Long: `List prints the server's tokens, oldest first: id, name, scope, project
("-" for every project), when each was made, expires ("never") and was
revoked ("-" for not), in UTC. Secrets are never shown: the server does
not keep them. An admin token limited to a project lists that project's.`,
		Example: `  chainvet token list --server http://127.0.0.1:8080
  chainvet token list --server http://127.0.0.1:8080 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return hinted{fmt.Errorf("token list: unknown output %q", output), "use -o table or -o json"}
			}
			c, err := f.client("token list", adminScope, apiTimeout)
			if err != nil {
				return err
			}
			b, err := c.do(cmd.Context(), http.MethodGet, "api/v1/tokens", nil, 0, "")
			if err != nil {
				return c.fail(err, "", tokenForbidden)
			}
			if output == "json" {
				return writeIndented(stdout, b)
			}
			var ans struct{ Tokens []serverToken }
			if err := json.Unmarshal(b, &ans); err != nil {
				return fmt.Errorf("token list: the server's answer: %w", err)
			}
			return writeTokens(stdout, ans.Tokens)
		},
	}
	f.add(cmd.Flags(), adminScope)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// writeTokens prints ts as a table.
func writeTokens(w io.Writer, ts []serverToken) error {
	if len(ts) == 0 {
		_, err := fmt.Fprintln(w, "no tokens")
		return err
	}
	when := func(t time.Time, none string) string {
		if t.IsZero() {
			return none
		}
		return t.UTC().Format(time.RFC3339)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tPROJECT\tCREATED\tEXPIRES\tREVOKED")
	for _, t := range ts {
		project := t.Project
		if project == "" {
			project = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printable(t.ID), printable(t.Name), printable(t.Scope), printable(project),
			when(t.Created, "-"), when(t.Expires, "never"), when(t.Revoked, "-"))
	}
	return tw.Flush()
}

func newTokenRevoke(stdout, stderr io.Writer) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "revoke ID...",
		Short: "Revoke tokens by id",
		Long: `Revoke revokes each token named by its id (as token list shows it): every
replica refuses it (401) from then on. A revoked token stays listed.
Revoking a revoked token changes nothing. When an id is unknown or
refused, the others are still revoked, and the command fails naming it.`,
		Example: `  chainvet token revoke --server http://127.0.0.1:8080 3f9c0a1b2c3d4e5f`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return hinted{errors.New("token revoke: no token id"), "give the ids that 'chainvet token list' shows"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, ids []string) error {
			c, err := f.client("token revoke", adminScope, apiTimeout)
			if err != nil {
				return err
			}
			var failed []error
			for _, id := range ids {
				if !isTokenID(id) {
					failed = append(failed, hinted{fmt.Errorf("token revoke: %q is not a token id (16 lower-case hex digits)", printable(id)),
						"see the ids with: chainvet token list"})
					continue
				}
				b, err := c.do(cmd.Context(), http.MethodDelete, "api/v1/tokens/"+id, nil, 0, "")
				if err != nil {
					err = c.fail(err, printable(id), tokenForbidden)
					// An id the server refuses is this id's problem;
					// anything else would fail for the others too.
					if !isStatus(err, http.StatusNotFound, http.StatusBadRequest, http.StatusForbidden) {
						printErrors(stderr, failed)
						return err
					}
					if isStatus(err, http.StatusNotFound) {
						err = hinted{err, "see the ids with: chainvet token list"}
					}
					failed = append(failed, err)
					continue
				}
				var t serverToken
				if err := json.Unmarshal(b, &t); err != nil {
					return fmt.Errorf("token revoke %s: the server's answer: %w", printable(id), err)
				}
				fmt.Fprintf(stdout, "revoked %s at %s\n", t.describe(), t.Revoked.UTC().Format(time.RFC3339))
			}
			return joinFailed(stderr, failed, fmt.Sprintf("token revoke: %d of %d tokens not revoked", len(failed), len(ids)))
		},
	}
	f.add(cmd.Flags(), adminScope)
	return cmd
}

// joinFailed returns nil for no errors, the error itself for one, and
// for several prints each, with its advice, on stderr and returns an
// error that counts them, summary.
func joinFailed(stderr io.Writer, errs []error, summary string) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	printErrors(stderr, errs)
	return hinted{errors.New(summary), "see the errors above"}
}

// printErrors prints errs on stderr as main prints the error it is
// returned: for the commands that go on after an error.
func printErrors(stderr io.Writer, errs []error) {
	for _, err := range errs {
		fmt.Fprintln(stderr, "chainvet: error:", err)
		var h hinted
		if errors.As(err, &h) {
			fmt.Fprintln(stderr, "chainvet: fix:", h.hint)
		}
	}
}

// isTokenID reports whether s looks like a token's id: the first 16 hex
// digits of its SHA-256. Checked before it goes into a URL path, where
// ".." or "/" would name another route.
func isTokenID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// noArgs refuses arguments, with advice.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return hinted{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0]), fmt.Sprintf("see '%s --help'", cmd.CommandPath())}
	}
	return nil
}
