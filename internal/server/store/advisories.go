package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	advstore "github.com/chainvet/chainvet/internal/advisory/store"
	"github.com/chainvet/chainvet/internal/inventory"
)

// purlEcosystems maps the purl types advisories are matched for to their
// OSV ecosystem names.
var purlEcosystems = map[string]string{
	"pypi":   "PyPI",
	"npm":    "npm",
	"golang": "Go",
	"github": "GitHub Actions",
	// HuggingFace is chainvet's own ecosystem of model advisories.
	"huggingface": EcosystemHuggingFace,
}

// EcosystemHuggingFace is the OSV ecosystem of model advisories: package
// names are Hugging Face repository ids ("org/name"), versions the 40-hex
// commits of affected revisions.
const EcosystemHuggingFace = "HuggingFace"

// PackageKey is what a component is matched against advisories by: the
// OSV ecosystem of its purl's type and its name normalized for that
// ecosystem. It returns "", "" for a component no advisory ecosystem
// covers.
//
// A Hugging Face model is named by its purl's namespace and name
// ("org/name"), whatever name its component carries.
func PackageKey(purl, name string) (ecosystem, normalized string) {
	typ, ok := PURLType(purl)
	eco := purlEcosystems[typ]
	if eco == EcosystemHuggingFace {
		name = HuggingFaceRepo(purl)
	}
	if !ok || eco == "" || name == "" {
		return "", ""
	}
	return eco, NormalizeName(eco, name)
}

// PURLPackageKey is PackageKey of the package a purl names, whatever its
// version: its name is the purl's namespace and name ("@scope/pkg",
// "github.com/org/mod", "actions/checkout"), as catalogers name
// components. It returns "", "" for a purl no advisory ecosystem covers,
// or one that does not parse.
func PURLPackageKey(purl string) (ecosystem, normalized string) {
	p, err := packageurl.FromString(purl)
	if err != nil {
		return "", ""
	}
	name := p.Name
	if p.Namespace != "" {
		name = p.Namespace + "/" + p.Name
	}
	return PackageKey(purl, name)
}

// NormalizeName is a package name as the store indexes it: as the
// advisory database spells it, and a Hugging Face repository id in lower
// case (the Hub resolves ids whatever their case).
func NormalizeName(ecosystem, name string) string {
	if ecosystem == EcosystemHuggingFace {
		return strings.ToLower(name)
	}
	return advstore.NormalizeName(ecosystem, name)
}

// HuggingFaceRepo is the repository id ("org/name") of a
// pkg:huggingface purl, without its version, qualifiers or subpath;
// "" for another purl.
func HuggingFaceRepo(purl string) string {
	rest, ok := strings.CutPrefix(purl, "pkg:")
	if !ok {
		return ""
	}
	typ, rest, ok := strings.Cut(rest, "/")
	if !ok || !strings.EqualFold(typ, "huggingface") {
		return ""
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, _, _ = strings.Cut(rest, "?")
	rest, _, _ = strings.Cut(rest, "@")
	rest = strings.Trim(rest, "/")
	if u, err := url.PathUnescape(rest); err == nil {
		rest = u
	}
	return rest
}

// HuggingFaceRevision is the version of a pkg:huggingface purl (the
// commit it pins), or "".
func HuggingFaceRevision(purl string) string {
	if HuggingFaceRepo(purl) == "" {
		return ""
	}
	rest, _, _ := strings.Cut(purl, "#")
	rest, _, _ = strings.Cut(rest, "?")
	_, v, ok := strings.Cut(rest, "@")
	if !ok {
		return ""
	}
	return strings.ToLower(v)
}

// An AdvisoryFeed is a URL of OSV advisories the server polls, and what
// its last poll saw.
type AdvisoryFeed struct {
	URL string `json:"url"`
	// ETag and LastModified are the validators of the last archive
	// imported, sent back as If-None-Match and If-Modified-Since.
	ETag         string `json:"etag"`
	LastModified string `json:"lastModified"`
	// LastResult says how the last poll ended, for operators.
	LastResult string    `json:"lastResult"`
	Polled     time.Time `json:"polled"`
	// NextPoll is when the feed is next due (AdvisoryFeeds only); zero
	// when it is due at once.
	NextPoll time.Time `json:"nextPoll"`
	// LeaseOwner and LeaseUntil are the poller holding the feed and
	// until when (AdvisoryFeeds only); a lease that ended is held by no
	// one, and LeaseUntil is zero when no poller holds it.
	LeaseOwner string    `json:"leaseOwner"`
	LeaseUntil time.Time `json:"leaseUntil"`
}

// FeedStore keeps the state of advisory polling. Any number of replicas
// may poll one feed: ClaimFeed leases it to one at a time.
type FeedStore interface {
	// ClaimFeed leases the feed at url to owner until now+lease if it is
	// due (never polled, or its next poll is at or before now) and no
	// other owner holds a current lease; ok says whether it did.
	ClaimFeed(ctx context.Context, url, owner string, now time.Time, lease time.Duration) (f AdvisoryFeed, ok bool, err error)
	// FinishFeed records a poll by the lease's owner, releases the lease
	// and sets the next poll; ok is false if the lease was lost, and
	// then nothing is recorded.
	FinishFeed(ctx context.Context, owner string, f AdvisoryFeed, next time.Time) (ok bool, err error)
	// AdvisoryFeeds lists the feeds ever polled, by URL.
	AdvisoryFeeds(ctx context.Context) ([]AdvisoryFeed, error)
}

func (s *sqlStore) ClaimFeed(ctx context.Context, url, owner string, now time.Time, lease time.Duration) (AdvisoryFeed, bool, error) {
	f := AdvisoryFeed{URL: url}
	at := now.UnixMicro()
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO advisory_feeds (url) VALUES (?) ON CONFLICT (url) DO NOTHING`), url); err != nil {
		return f, false, fmt.Errorf("store: claim feed %s: %w", url, err)
	}
	// One statement: of two replicas claiming at once, the second sees
	// the first's lease.
	var polled int64
	err := s.db.QueryRowContext(ctx, s.q(`UPDATE advisory_feeds SET lease_owner = ?, lease_until = ?
WHERE url = ? AND next_poll <= ? AND lease_until <= ? RETURNING etag, last_modified, last_result, polled`),
		owner, now.Add(lease).UnixMicro(), url, at, at).Scan(&f.ETag, &f.LastModified, &f.LastResult, &polled)
	if errors.Is(err, sql.ErrNoRows) {
		return f, false, nil
	}
	if err != nil {
		return f, false, fmt.Errorf("store: claim feed %s: %w", url, err)
	}
	if polled != 0 {
		f.Polled = time.UnixMicro(polled).UTC()
	}
	return f, true, nil
}

func (s *sqlStore) FinishFeed(ctx context.Context, owner string, f AdvisoryFeed, next time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE advisory_feeds SET etag = ?, last_modified = ?, last_result = ?, polled = ?, next_poll = ?,
	lease_owner = '', lease_until = 0 WHERE url = ? AND lease_owner = ?`),
		f.ETag, f.LastModified, f.LastResult, f.Polled.UnixMicro(), next.UnixMicro(), f.URL, owner)
	if err != nil {
		return false, fmt.Errorf("store: finish feed %s: %w", f.URL, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: finish feed %s: %w", f.URL, err)
	}
	return n == 1, nil
}

func (s *sqlStore) AdvisoryFeeds(ctx context.Context) ([]AdvisoryFeed, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT url, etag, last_modified, last_result, polled, next_poll, lease_owner, lease_until FROM advisory_feeds ORDER BY url`)
	if err != nil {
		return nil, fmt.Errorf("store: advisory feeds: %w", err)
	}
	defer rows.Close()
	var out []AdvisoryFeed
	for rows.Next() {
		var f AdvisoryFeed
		var polled, next, until int64
		if err := rows.Scan(&f.URL, &f.ETag, &f.LastModified, &f.LastResult, &polled, &next, &f.LeaseOwner, &until); err != nil {
			return nil, fmt.Errorf("store: advisory feeds: %w", err)
		}
		f.Polled, f.NextPoll, f.LeaseUntil = fromMicro(polled), fromMicro(next), fromMicro(until)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: advisory feeds: %w", err)
	}
	return out, nil
}

// PURLType returns the type of a package URL ("pypi" of
// "pkg:pypi/torch@2.5.1").
func PURLType(purl string) (string, bool) {
	rest, ok := strings.CutPrefix(purl, "pkg:")
	if !ok {
		return "", false
	}
	typ, _, ok := strings.Cut(rest, "/")
	return strings.ToLower(typ), ok && typ != ""
}

// An Advisory is an OSV record as the server stores it.
type Advisory struct {
	ID       string
	Modified time.Time
	// Imported is when this copy was stored.
	Imported time.Time
	// Withdrawn, given to PutAdvisories, removes the stored copy.
	Withdrawn bool
	// Raw is the record's JSON.
	Raw []byte
	// Packages are the packages it affects, by ecosystem and normalized
	// name (as PackageKey gives them).
	Packages []PackageRef
	// Digests are the files it reports, "sha256:<hex>" or "sha512:<hex>".
	Digests []string
}

// A PackageRef names a package in an OSV ecosystem.
type PackageRef struct {
	Ecosystem, Name string
}

// Rules of server findings.
const (
	RuleVulnerable = "package/vulnerable"
	RuleMalicious  = "package/malicious"
)

// A Finding is an advisory matching a component of a deployment's latest
// report.
type Finding struct {
	ID       int64    `json:"id"`
	Project  string   `json:"project"`
	Owners   []string `json:"owners"`
	Tier     string   `json:"tier,omitempty"`
	Env      string   `json:"env"`
	ReportID int64    `json:"report"`
	// Component is the component's purl, or kind:name@version without one.
	Component string `json:"component"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	// Advisory is the matching record's id; Aliases are its other ids.
	Advisory    string             `json:"advisory"`
	Aliases     []string           `json:"aliases"`
	Severity    inventory.Severity `json:"severity"`
	Rule        string             `json:"rule"`
	Evidence    string             `json:"evidence"`
	Message     string             `json:"message"`
	Remediation string             `json:"remediation"`
	FirstSeen   time.Time          `json:"firstSeen"`
	LastSeen    time.Time          `json:"lastSeen"`
	// ResolvedAt is when the finding stopped matching; nil while open.
	ResolvedAt *time.Time `json:"resolvedAt,omitempty"`
}

// A FindingScope says what one matching run looked at, and so which open
// findings it resolves when it no longer finds them.
//
// With Advisory set, the run matched that advisory against every
// deployment: its open findings of that advisory not found again are
// resolved. With Project, Env and ReportID set, the run matched that
// report against every advisory: the deployment's open findings not found
// again are resolved — if the report is still the deployment's latest,
// otherwise the run changes nothing.
//
// A finding is recorded only while its report is its deployment's latest,
// and a run never resolves a finding another run saw after it began: two
// replicas matching at once leave the findings of the later view.
type FindingScope struct {
	Advisory string
	Project  string
	Env      string
	ReportID int64
}

// Finding statuses a query selects.
const (
	StatusOpen     = "open"
	StatusResolved = "resolved"
	StatusAll      = "all"
)

// A FindingQuery selects findings; empty fields select all.
type FindingQuery struct {
	Project string
	// Advisory matches a finding's advisory id or one of its aliases.
	Advisory string
	// MinSeverity is the least severity listed.
	MinSeverity inventory.Severity
	// Status is StatusOpen (when empty), StatusResolved or StatusAll.
	Status string
	// Limit caps the answer; 0 means DefaultLimit.
	Limit int
}

func (s *sqlStore) PutAdvisories(ctx context.Context, advs []Advisory, now time.Time) (changed, pending []string, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("store: put advisories: %w", err)
	}
	defer tx.Rollback()
	for _, a := range advs {
		ch, pend, err := s.putAdvisory(ctx, tx, a, now)
		if err != nil {
			return nil, nil, fmt.Errorf("store: put advisory %s: %w", a.ID, err)
		}
		if ch {
			changed = append(changed, a.ID)
		} else if pend {
			pending = append(pending, a.ID)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("store: put advisories: %w", err)
	}
	return changed, pending, nil
}

// putAdvisory stores one advisory and says whether it changed the stored
// copy, or else whether the stored copy is still to be matched.
func (s *sqlStore) putAdvisory(ctx context.Context, tx *sql.Tx, a Advisory, now time.Time) (changed, pending bool, err error) {
	mod := a.Modified.UnixMicro()
	if a.Withdrawn {
		// Index rows go with it (ON DELETE CASCADE).
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM advisories WHERE id = ? AND modified <= ?`), a.ID, mod)
		if err != nil {
			return false, false, err
		}
		n, err := res.RowsAffected()
		return n > 0, false, err
	}
	var id string
	err = tx.QueryRowContext(ctx, s.q(`INSERT INTO advisories (id, modified, imported, raw) VALUES (?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET modified = excluded.modified, imported = excluded.imported, raw = excluded.raw
WHERE excluded.modified > advisories.modified RETURNING id`), a.ID, mod, now.UnixMicro(), a.Raw).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		// As new a copy is stored: match it only if no run finished
		// matching it (a server stopped between commit and matching).
		err = tx.QueryRowContext(ctx, s.q(`SELECT matched < modified FROM advisories WHERE id = ? AND modified = ?`), a.ID, mod).Scan(&pending)
		if errors.Is(err, sql.ErrNoRows) {
			return false, false, nil // an older copy
		}
		return false, pending, err
	}
	if err != nil {
		return false, false, err
	}
	for _, del := range []string{`DELETE FROM advisory_packages WHERE advisory = ?`, `DELETE FROM advisory_digests WHERE advisory = ?`} {
		if _, err := tx.ExecContext(ctx, s.q(del), a.ID); err != nil {
			return false, false, err
		}
	}
	for _, p := range a.Packages {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO advisory_packages (ecosystem, name, advisory) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
			p.Ecosystem, p.Name, a.ID); err != nil {
			return false, false, err
		}
	}
	for _, d := range a.Digests {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO advisory_digests (digest, advisory) VALUES (?, ?) ON CONFLICT DO NOTHING`), d, a.ID); err != nil {
			return false, false, err
		}
	}
	return true, false, nil
}

func (s *sqlStore) MarkMatched(ctx context.Context, id string, modified time.Time) error {
	return s.MarkAllMatched(ctx, []Advisory{{ID: id, Modified: modified}})
}

func (s *sqlStore) MarkAllMatched(ctx context.Context, advs []Advisory) error {
	if len(advs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: mark advisories matched: %w", err)
	}
	defer tx.Rollback()
	for _, a := range advs {
		mod := a.Modified.UnixMicro()
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE advisories SET matched = ?, lease_until = 0 WHERE id = ? AND modified = ?`), mod, a.ID, mod); err != nil {
			return fmt.Errorf("store: mark %s matched: %w", a.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: mark advisories matched: %w", err)
	}
	return nil
}

func (s *sqlStore) Advisory(ctx context.Context, id string) (Advisory, error) {
	a := Advisory{ID: id}
	var mod, imported int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT modified, imported, raw FROM advisories WHERE id = ?`), id).Scan(&mod, &imported, &a.Raw)
	if errors.Is(err, sql.ErrNoRows) {
		return Advisory{}, fmt.Errorf("advisory %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Advisory{}, fmt.Errorf("store: advisory %s: %w", id, err)
	}
	a.Modified, a.Imported = time.UnixMicro(mod).UTC(), time.UnixMicro(imported).UTC()
	return a, nil
}

func (s *sqlStore) AdvisoriesFor(ctx context.Context, ecosystem, name string) ([][]byte, error) {
	return s.raws(ctx, `SELECT a.raw FROM advisory_packages p JOIN advisories a ON a.id = p.advisory
WHERE p.ecosystem = ? AND p.name = ? ORDER BY a.id`, ecosystem, name)
}

func (s *sqlStore) AdvisoriesByDigest(ctx context.Context, digest string) ([][]byte, error) {
	return s.raws(ctx, `SELECT a.raw FROM advisory_digests d JOIN advisories a ON a.id = d.advisory
WHERE d.digest = ? ORDER BY a.id`, digest)
}

func (s *sqlStore) raws(ctx context.Context, query string, args ...any) ([][]byte, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: advisories: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("store: advisories: %w", err)
		}
		out = append(out, raw)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: advisories: %w", err)
	}
	return out, nil
}

// newRun names one matching run: the findings it records carry it, so
// that it can resolve the ones it did not record.
func newRun() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func (s *sqlStore) SyncFindings(ctx context.Context, scope FindingScope, found []Finding, now time.Time) (opened, resolved int, err error) {
	if (scope.Advisory == "") == (scope.Project == "") {
		return 0, 0, errors.New("store: sync findings: give an advisory or a deployment")
	}
	// Most advisories of an import match nothing in the fleet and have
	// nothing open to resolve: such a run changes nothing, and is
	// answered without a write transaction (and its sync to disk).
	if scope.Advisory != "" && len(found) == 0 {
		var one int
		err := s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM findings WHERE advisory = ? AND resolved_at IS NULL LIMIT 1`), scope.Advisory).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, 0, nil
		}
		if err != nil {
			return 0, 0, fmt.Errorf("store: sync findings: %w", err)
		}
	}
	run, err := newRun()
	if err != nil {
		return 0, 0, fmt.Errorf("store: sync findings: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("store: sync findings: %w", err)
	}
	defer tx.Rollback()
	fail := func(err error) (int, int, error) { return 0, 0, fmt.Errorf("store: sync findings: %w", err) }

	// latest caches each deployment's latest report for this run.
	latest := map[[2]string]int64{}
	current := func(project, env string) (int64, error) {
		k := [2]string{project, env}
		if id, ok := latest[k]; ok {
			return id, nil
		}
		var id int64
		err := tx.QueryRowContext(ctx, s.q(`SELECT report_id FROM deployments WHERE project = ? AND env = ?`), project, env).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
		latest[k] = id
		return id, nil
	}
	if scope.Project != "" {
		id, err := current(scope.Project, scope.Env)
		if err != nil {
			return fail(err)
		}
		if id != scope.ReportID {
			return 0, 0, nil // a newer report's run decides
		}
	}
	at := now.UnixMicro()
	var fresh []Finding // opened by this run, to alert on
	for _, f := range found {
		id, err := current(f.Project, f.Env)
		if err != nil {
			return fail(err)
		}
		if id != f.ReportID {
			continue
		}
		var open bool
		err = tx.QueryRowContext(ctx, s.q(`SELECT resolved_at IS NULL FROM findings WHERE project = ? AND env = ? AND component = ? AND advisory = ? AND rule = ?`),
			f.Project, f.Env, f.Component, f.Advisory, f.Rule).Scan(&open)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fail(err)
		}
		var fid int64
		err = tx.QueryRowContext(ctx, s.q(`INSERT INTO findings (project, env, report_id, component, name, version, advisory, aliases,
	severity, rule, evidence, message, remediation, first_seen, last_seen, resolved_at, run)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
ON CONFLICT (project, env, component, advisory, rule) DO UPDATE SET
	report_id = excluded.report_id, name = excluded.name, version = excluded.version, aliases = excluded.aliases,
	severity = excluded.severity, evidence = excluded.evidence, message = excluded.message, remediation = excluded.remediation,
	first_seen = CASE WHEN findings.resolved_at IS NULL THEN findings.first_seen ELSE excluded.first_seen END,
	last_seen = excluded.last_seen, resolved_at = NULL, run = excluded.run
RETURNING id`),
			f.Project, f.Env, f.ReportID, f.Component, f.Name, f.Version, f.Advisory, jsonList(f.Aliases),
			int(f.Severity), f.Rule, f.Evidence, f.Message, f.Remediation, at, at, run).Scan(&fid)
		if err != nil {
			return fail(err)
		}
		if !open {
			opened++
			f.ID, f.FirstSeen, f.LastSeen, f.ResolvedAt = fid, now.UTC(), now.UTC(), nil
			fresh = append(fresh, f)
		}
	}
	// Alerts are queued with the findings they report: both or neither.
	if err := s.enqueueAlerts(ctx, tx, fresh, now); err != nil {
		return fail(err)
	}
	var res sql.Result
	if scope.Advisory != "" {
		res, err = tx.ExecContext(ctx, s.q(`UPDATE findings SET resolved_at = ? WHERE advisory = ? AND resolved_at IS NULL AND run <> ? AND last_seen <= ?`),
			at, scope.Advisory, run, at)
	} else {
		res, err = tx.ExecContext(ctx, s.q(`UPDATE findings SET resolved_at = ? WHERE project = ? AND env = ? AND resolved_at IS NULL AND run <> ? AND last_seen <= ?`),
			at, scope.Project, scope.Env, run, at)
	}
	if err != nil {
		return fail(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return opened, int(n), nil
}

// likeEscaper escapes the LIKE wildcards of a literal, with \ as escape.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func (s *sqlStore) Findings(ctx context.Context, q FindingQuery) ([]Finding, error) {
	where := []string{"f.severity >= ?"}
	args := []any{int(q.MinSeverity)}
	switch q.Status {
	case "", StatusOpen:
		where = append(where, "f.resolved_at IS NULL")
	case StatusResolved:
		where = append(where, "f.resolved_at IS NOT NULL")
	case StatusAll:
	default:
		return nil, fmt.Errorf("store: findings: unknown status %q", q.Status)
	}
	if q.Project != "" {
		where = append(where, "f.project = ?")
		args = append(args, q.Project)
	}
	if q.Advisory != "" {
		// Aliases are stored as a JSON list of strings.
		where = append(where, `(f.advisory = ? OR f.aliases LIKE ? ESCAPE '\')`)
		args = append(args, q.Advisory, `%"`+likeEscaper.Replace(q.Advisory)+`"%`)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	args = append(args, limit)
	query := `SELECT f.id, f.project, p.owners, p.tier, f.env, f.report_id, f.component, f.name, f.version, f.advisory, f.aliases,
	f.severity, f.rule, f.evidence, f.message, f.remediation, f.first_seen, f.last_seen, f.resolved_at
FROM findings f JOIN projects p ON p.name = f.project
WHERE ` + strings.Join(where, " AND ") + `
ORDER BY f.severity DESC, f.project, f.env, f.advisory, f.component, f.rule
LIMIT ?`
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: findings: %w", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var owners, aliases string
		var sev int
		var first, last int64
		var resolved sql.NullInt64
		if err := rows.Scan(&f.ID, &f.Project, &owners, &f.Tier, &f.Env, &f.ReportID, &f.Component, &f.Name, &f.Version,
			&f.Advisory, &aliases, &sev, &f.Rule, &f.Evidence, &f.Message, &f.Remediation, &first, &last, &resolved); err != nil {
			return nil, fmt.Errorf("store: findings: %w", err)
		}
		f.Owners, f.Aliases = parseList(owners), parseList(aliases)
		f.Severity = inventory.Severity(sev)
		f.FirstSeen, f.LastSeen = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
		if resolved.Valid {
			t := time.UnixMicro(resolved.Int64).UTC()
			f.ResolvedAt = &t
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: findings: %w", err)
	}
	return out, nil
}

// insertDigests indexes a batch of component digests: pairs of report id
// and "algorithm:value".
func (s *sqlStore) insertDigests(ctx context.Context, tx *sql.Tx, pairs []any) error {
	const per = 2 * componentBatch
	for start := 0; start < len(pairs); start += per {
		batch := pairs[start:min(start+per, len(pairs))]
		var b strings.Builder
		b.WriteString(`INSERT INTO component_digests (report_id, digest) VALUES `)
		for i := 0; i < len(batch); i += 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?)")
		}
		if _, err := tx.ExecContext(ctx, s.q(b.String()), batch...); err != nil {
			return err
		}
	}
	return nil
}
