package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/chainvet/chainvet/internal/diff"
	"github.com/chainvet/chainvet/internal/inventory"
)

// Limits of the endpoint index: the endpoints come from uploads, so what
// one component adds to it is bounded. Endpoints beyond them are not
// indexed.
const (
	// MaxComponentEndpoints is the most hosts indexed per component;
	// of several URLs at one host, the first is kept.
	MaxComponentEndpoints = 16
	// MaxEndpointLen is the longest endpoint indexed, in bytes.
	MaxEndpointLen = 2048
)

// ErrEndpoint reports an endpoint that names no host.
var ErrEndpoint = errors.New("store: not an endpoint")

// defaultPorts are the ports EndpointHost leaves out, by scheme.
var defaultPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443"}

// EndpointHost returns the host an endpoint is indexed and queried by.
// The endpoint is a URL ("https://api.openai.com/v1") or a host with an
// optional port ("api.openai.com", "localhost:8080"). The host is in
// lower case, without user information, and keeps its port unless the
// port is the default of the URL's scheme (80 for http and ws, 443 for
// https and wss). A host without a scheme keeps any port it is given.
func EndpointHost(endpoint string) (string, error) {
	host, _, err := parseEndpoint(endpoint)
	return host, err
}

// parseEndpoint returns the host of an endpoint (see EndpointHost) and
// the endpoint as indexed: without user information, query or fragment.
func parseEndpoint(endpoint string) (host, clean string, err error) {
	e := strings.TrimSpace(endpoint)
	bad := func() (string, string, error) {
		return "", "", fmt.Errorf("%w: %q: want a URL or a host", ErrEndpoint, printable(endpoint))
	}
	if e == "" || len(e) > MaxEndpointLen {
		return bad()
	}
	scheme, rest, ok := strings.Cut(e, "://")
	if !ok {
		scheme, rest = "", e
	}
	u, err := url.Parse("//" + rest)
	if err != nil || u.Host == "" || u.Hostname() == "" || (ok && !validScheme(scheme)) {
		return bad()
	}
	host = strings.ToLower(u.Host)
	if port := u.Port(); port != "" && ok && port == defaultPorts[strings.ToLower(scheme)] {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:[]", r)) {
			return bad()
		}
	}
	// The host must read back as itself, naming something: "::443"
	// parses, but its host "[:]" does not.
	if again, err := url.Parse("//" + host); err != nil || again.Host != host ||
		!strings.ContainsFunc(again.Hostname(), func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }) {
		return bad()
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	clean = strings.TrimPrefix(u.String(), "//")
	if ok {
		clean = strings.ToLower(scheme) + "://" + clean
	}
	// Escaping may lengthen it past what a query may give back.
	if len(clean) > MaxEndpointLen {
		return bad()
	}
	return host, clean, nil
}

// validScheme says whether s is a URL scheme: a letter, then letters,
// digits, '+', '-' or '.'.
func validScheme(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// printable cuts s short and replaces control characters, for an error
// message.
func printable(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// An endpoint is one host a component calls and the first URL it calls
// there.
type endpoint struct{ host, url string }

// endpointsOf lists the endpoints a component calls, in the order its
// properties give them: its "endpoints" property, comma-separated, and,
// for a plugin, its "url". Those that do not parse are left out, as
// are those beyond the limits.
func endpointsOf(c inventory.Component) []endpoint {
	list := strings.Split(c.Properties["endpoints"], ",")
	if c.Kind == inventory.KindPlugin {
		list = append(list, c.Properties["url"])
	}
	var out []endpoint
	seen := map[string]bool{}
	for _, e := range list {
		if strings.TrimSpace(e) == "" {
			continue
		}
		host, clean, err := parseEndpoint(e)
		if err != nil || seen[host] {
			continue
		}
		if len(out) == MaxComponentEndpoints {
			break
		}
		seen[host] = true
		out = append(out, endpoint{host, clean})
	}
	return out
}

// insertEndpoints indexes the endpoints the components of report id call.
func (s *sqlStore) insertEndpoints(ctx context.Context, tx *sql.Tx, id int64, cs []inventory.Component) error {
	const cols = 9
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		n := len(args) / cols
		q := `INSERT INTO component_endpoints (report_id, host, url, kind, name, version, purl, digests, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)` +
			strings.Repeat(", (?, ?, ?, ?, ?, ?, ?, ?, ?)", n-1)
		_, err := tx.ExecContext(ctx, s.q(q), args...)
		args = args[:0]
		return err
	}
	for _, c := range cs {
		for _, e := range endpointsOf(c) {
			args = append(args, id, e.host, e.url, string(c.Kind), c.Name, c.Version, c.PURL, digestList(c.Digests), firstPath(c))
			if len(args) == cols*componentBatch {
				if err := flush(); err != nil {
					return fmt.Errorf("index endpoints: %w", err)
				}
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("index endpoints: %w", err)
	}
	return nil
}

// backfillEndpoints indexes the endpoints of the latest report of each
// deployment stored before migration 9, reading them from the report's
// body. A body that no longer parses is left unindexed rather than stop
// the migration. Earlier reports are not indexed: a query with History
// finds their endpoints only in reports stored since.
func backfillEndpoints(ctx context.Context, s *sqlStore, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT d.report_id FROM deployments d
WHERE NOT EXISTS (SELECT 1 FROM component_endpoints e WHERE e.report_id = d.report_id) ORDER BY d.report_id`)
	if err != nil {
		return fmt.Errorf("backfill endpoints: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("backfill endpoints: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("backfill endpoints: %w", err)
	}
	for _, id := range ids {
		var body []byte
		if err := tx.QueryRowContext(ctx, s.q(`SELECT body FROM reports WHERE id = ?`), id).Scan(&body); err != nil {
			return fmt.Errorf("backfill endpoints: report %d: %w", id, err)
		}
		cs, err := diff.Parse(body)
		if err != nil {
			continue
		}
		if err := s.insertEndpoints(ctx, tx, id, cs); err != nil {
			return fmt.Errorf("backfill endpoints: report %d: %w", id, err)
		}
	}
	return nil
}
