package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/server/store"
)

// Limits of chainvet query.
const (
	// queryTimeout bounds one question to the server.
	queryTimeout = time.Minute
	// maxQueryAnswer bounds the answer read: 10,000 matches of a few
	// hundred bytes each, with room to spare.
	maxQueryAnswer = 64 << 20
)

// queryFlags are chainvet query's flags.
type queryFlags struct {
	server, token         string
	name, version, digest string
	endpoint              string
	rng, project, output  string
	history               bool
	limit                 int
}

// queryAnswer is the answer of GET /api/v1/components.
type queryAnswer struct {
	// Matches are the rows, as the server's store gives them.
	Matches   []store.Match `json:"matches"`
	Truncated bool          `json:"truncated"`
	// SkippedVersions counts, with --range, the package's versions that
	// do not parse: whether they are in the range is unknown.
	SkippedVersions int `json:"skippedVersions"`
}

func newQuery(stdout, stderr io.Writer) *cobra.Command {
	var f queryFlags
	cmd := &cobra.Command{
		Use:   "query [PURL]",
		Short: "Ask a chainvet server who runs a package, model or file, or calls an endpoint",
		Long: `Query asks a chainvet server (chainvet serve) which deployments run a
component: give a purl (without a version it matches every version, or,
with --range, the versions in a range), or --name with an optional
--version, or a file --digest (sha256:<hex>), or a service --endpoint. Each
row is one deployment's latest report holding it, with the project's owners
and tier, the environment, the release and the path it was found at;
--history searches every stored report instead.

--endpoint finds the AI services and remote plugins (MCP servers) that
call an endpoint: a host ("api.openai.com", "localhost:8080") or a URL,
whose host is taken. Case does not matter, and a URL's port counts unless
it is the scheme's default. The table then shows the URL each calls.

--range is written as the package's ecosystem writes ranges: a PEP 440
specifier set for PyPI (">=2.0,<2.5"), a node-semver range for npm
("^1.2.0 || ~2.0.1"), and comma-joined comparisons (<, <=, >, >=, ==, !=)
for Go, crates.io and GitHub Actions (">=1.2.0,<1.5.0"). The package is
matched however its name is spelt (Torch is torch). Pre-releases in the
range match. A stored version that does not parse is not matched, and a
warning says how many were skipped.

The token is --token or $CHAINVET_TOKEN; a read token suffices, and one
limited to a project sees that project only.`,
		Example: `  chainvet query --server http://127.0.0.1:8080 pkg:pypi/torch@2.5.0
  chainvet query --server http://127.0.0.1:8080 --range '>=2.0,<2.5' pkg:pypi/torch
  chainvet query --server http://127.0.0.1:8080 --name torch -o json
  chainvet query --server http://127.0.0.1:8080 --digest sha256:9f2c…
  chainvet query --server http://127.0.0.1:8080 --endpoint api.openai.com`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			purl := ""
			if len(args) == 1 {
				purl = args[0]
			}
			if f.token == "" {
				f.token = os.Getenv("CHAINVET_TOKEN")
			}
			ans, err := runQuery(cmd.Context(), &http.Client{Timeout: queryTimeout}, f, purl)
			if err != nil {
				return err
			}
			if ans.Truncated {
				fmt.Fprintf(stderr, "chainvet: warning: more matches than --limit %d: the list is cut short\n", f.limit)
			}
			if ans.SkippedVersions > 0 {
				fmt.Fprintf(stderr, "chainvet: warning: %d stored versions of the package do not parse: the range could not be applied to them, and they are not listed\n", ans.SkippedVersions)
			}
			return writeQuery(stdout, f.output, ans)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.server, "server", "", "URL of the chainvet server, http(s)://HOST:PORT")
	fl.StringVar(&f.token, "token", "", "API token (default $CHAINVET_TOKEN)")
	fl.StringVar(&f.name, "name", "", "component name to look for")
	fl.StringVar(&f.version, "version", "", "component version, with --name (default: every version)")
	fl.StringVar(&f.rng, "range", "", "with a purl without a version: the versions in this range, in the ecosystem's syntax")
	fl.StringVar(&f.digest, "digest", "", "file digest to look for, sha256:<hex> or sha512:<hex>")
	fl.StringVar(&f.endpoint, "endpoint", "", "service endpoint to look for the callers of: a host, or a URL")
	fl.StringVar(&f.project, "project", "", "look in this project only")
	fl.BoolVar(&f.history, "history", false, "search every stored report, not only each deployment's latest")
	fl.IntVar(&f.limit, "limit", 1000, "most matches to list (1 to 10000)")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	return cmd
}

// runQuery checks the flags and asks the server.
func runQuery(ctx context.Context, client *http.Client, f queryFlags, purl string) (queryAnswer, error) {
	n := 0
	for _, v := range []string{purl, f.name, f.digest, f.endpoint} {
		if v != "" {
			n++
		}
	}
	switch {
	case n != 1:
		return queryAnswer{}, hinted{errors.New("query: give one of PURL, --name, --digest or --endpoint"), "see 'chainvet query --help'"}
	case f.rng != "" && (purl == "" || strings.Contains(purl, "@")):
		return queryAnswer{}, hinted{errors.New("query: --range needs a purl without a version"), "such as: chainvet query --range '>=2.0,<2.5' pkg:pypi/torch"}
	case f.version != "" && f.name == "":
		return queryAnswer{}, hinted{errors.New("query: --version needs --name"), "or give a purl with a version: pkg:pypi/torch@2.5.0"}
	case f.output != "table" && f.output != "json":
		return queryAnswer{}, hinted{fmt.Errorf("query: unknown output %q", f.output), "use -o table or -o json"}
	case f.limit < 1 || f.limit > 10000:
		return queryAnswer{}, hinted{fmt.Errorf("query: --limit %d out of range", f.limit), "give --limit from 1 to 10000"}
	case f.token == "":
		return queryAnswer{}, hinted{errors.New("query needs a token"), "set CHAINVET_TOKEN or pass --token, a read token of the server"}
	}
	u, err := url.Parse(strings.TrimRight(f.server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return queryAnswer{}, hinted{fmt.Errorf("query: %q is not a server URL", f.server), "give --server http(s)://HOST:PORT"}
	}
	u = u.JoinPath("api/v1/components")
	q := url.Values{}
	for k, v := range map[string]string{"purl": purl, "range": f.rng, "name": f.name, "version": f.version, "digest": f.digest, "endpoint": f.endpoint, "project": f.project} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.history {
		q.Set("history", "true")
	}
	q.Set("limit", strconv.Itoa(f.limit))
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return queryAnswer{}, fmt.Errorf("query: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return queryAnswer{}, fmt.Errorf("query: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxQueryAnswer+1))
	if err != nil {
		return queryAnswer{}, fmt.Errorf("query: reading the answer: %w", err)
	}
	if len(b) > maxQueryAnswer {
		return queryAnswer{}, hinted{fmt.Errorf("query: answer larger than %d bytes", maxQueryAnswer), "narrow the query, or lower --limit"}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b[:min(len(b), 200)]))
		}
		err := fmt.Errorf("query: %s: %s", resp.Status, printable(e.Error))
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return queryAnswer{}, hinted{err, "set CHAINVET_TOKEN to a token the server issued"}
		case http.StatusForbidden:
			return queryAnswer{}, hinted{err, "a project-limited token sees its project only: drop --project or use another token"}
		case http.StatusBadRequest:
			if f.rng != "" {
				return queryAnswer{}, hinted{err, "see 'chainvet query --help' for the range syntax of each ecosystem"}
			}
			if f.endpoint != "" {
				return queryAnswer{}, hinted{err, "give --endpoint a host, such as api.openai.com, or a URL"}
			}
		}
		return queryAnswer{}, err
	}
	var ans queryAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		return queryAnswer{}, fmt.Errorf("query: the server's answer: %w", err)
	}
	if ans.Matches == nil {
		ans.Matches = []store.Match{}
	}
	return ans, nil
}

// writeQuery prints the answer as a table or as JSON. The table has an
// ENDPOINT column when the matches are of an endpoint query.
func writeQuery(w io.Writer, format string, ans queryAnswer) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ans)
	}
	if len(ans.Matches) == 0 {
		_, err := fmt.Fprintln(w, "no deployment runs it")
		return err
	}
	endpoint := slices.ContainsFunc(ans.Matches, func(m store.Match) bool { return m.Endpoint != "" })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "PROJECT\tENV\tRELEASE\tTIER\tOWNERS\tCOMPONENT\tPATH"
	if endpoint {
		head += "\tENDPOINT"
	}
	fmt.Fprintln(tw, head)
	for _, m := range ans.Matches {
		comp := m.Name
		if m.CVersion != "" {
			comp += "@" + m.CVersion
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s", printable(m.Project), printable(m.Env), printable(m.Version),
			printable(m.Tier), printable(strings.Join(m.Owners, ",")), printable(comp), printable(m.Path))
		if endpoint {
			fmt.Fprintf(tw, "\t%s", printable(m.Endpoint))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// printable replaces control characters, which a hostile report could
// use to rewrite the terminal, and tabs, which would shift the columns.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
