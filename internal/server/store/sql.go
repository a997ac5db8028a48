package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/chainvet/chainvet/internal/advisory/version"
	"github.com/chainvet/chainvet/internal/inventory"
)

// dialect is what differs between the two backends.
type dialect struct {
	name   string
	driver string
	// types fills the placeholders of the migrations.
	types *strings.Replacer
	// numbered placeholders ($1) rather than ?.
	numbered bool
}

var (
	sqliteDialect = dialect{
		name:   "sqlite",
		driver: "sqlite",
		types:  strings.NewReplacer("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{blob}", "BLOB", "{text}", "TEXT"),
	}
	postgresDialect = dialect{
		name:   "postgres",
		driver: "pgx",
		// purls and names are compared as bytes: the prefix ranges of
		// FindComponents must not depend on the database's locale.
		types:    strings.NewReplacer("{id}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "{blob}", "BYTEA", "{text}", `TEXT COLLATE "C"`),
		numbered: true,
	}
)

// Open opens the store a DSN names, creating or migrating its schema:
// postgres://… or postgresql://… for PostgreSQL, file:PATH for SQLite.
func Open(ctx context.Context, dsn string) (Store, error) {
	s, err := open(ctx, dsn, int64(len(migrations)-1))
	if err != nil {
		return nil, err // not a nil *sqlStore in a non-nil Store
	}
	return s, nil
}

// open is Open, migrating up to schema version to.
func open(ctx context.Context, dsn string, to int64) (*sqlStore, error) {
	var (
		d   dialect
		src string
	)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		d, src = postgresDialect, dsn
	case strings.HasPrefix(dsn, "file:"):
		d, src = sqliteDialect, sqliteDSN(dsn)
	default:
		return nil, fmt.Errorf("store: unknown database %q: want file:PATH or postgres://…", redact(dsn))
	}
	db, err := sql.Open(d.driver, src)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", d.name, err)
	}
	s := &sqlStore{db: db, d: d}
	if err := s.migrateTo(ctx, to); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN adds the settings the store relies on: foreign keys, waiting
// for a lock rather than failing, WAL so readers do not block the writer,
// and transactions that take the write lock when they begin, so two
// writers never deadlock upgrading a read lock. Reads go through a memory
// map of up to sqliteMmap bytes of the file: a "who runs X?" across a
// large fleet reads a thousand scattered rows, and a read call for each
// page was half its time (10,000 projects: 18 ms → 10 ms).
func sqliteDSN(dsn string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=mmap_size(" + strconv.Itoa(sqliteMmap) + ")&_txlock=immediate"
}

// sqliteMmap is how much of a SQLite store is memory-mapped: 2 GiB, the
// most SQLite maps by default; the operating system pages it in as read.
const sqliteMmap = 1<<31 - 1

// redact hides a password in a DSN shown in an error.
func redact(dsn string) string {
	if i, j := strings.Index(dsn, "://"), strings.LastIndex(dsn, "@"); i >= 0 && j > i {
		return dsn[:i+3] + "…" + dsn[j:]
	}
	return dsn
}

type sqlStore struct {
	db *sql.DB
	d  dialect
}

// q rewrites ? placeholders for the dialect. No statement here has a ?
// inside a literal.
func (s *sqlStore) q(query string) string {
	if !s.d.numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// migrations are applied in order, each once, in one transaction with the
// row that records it in schema_migrations. Never edit one that shipped:
// add the next.
var migrations = []string{
	1: `
CREATE TABLE projects (
	name {text} PRIMARY KEY,
	owners TEXT NOT NULL DEFAULT '[]',
	tier TEXT NOT NULL DEFAULT '',
	tags TEXT NOT NULL DEFAULT '[]',
	created BIGINT NOT NULL
);
CREATE TABLE reports (
	id {id},
	project {text} NOT NULL REFERENCES projects(name),
	version {text} NOT NULL,
	env {text} NOT NULL,
	digest TEXT NOT NULL,
	format TEXT NOT NULL,
	received BIGINT NOT NULL,
	ncomponents INTEGER NOT NULL,
	body {blob} NOT NULL,
	UNIQUE (project, version, env, digest)
);
CREATE INDEX reports_project ON reports(project, received);
CREATE TABLE deployments (
	project {text} NOT NULL REFERENCES projects(name),
	env {text} NOT NULL,
	report_id BIGINT NOT NULL REFERENCES reports(id),
	received BIGINT NOT NULL,
	PRIMARY KEY (project, env)
);
CREATE INDEX deployments_report ON deployments(report_id);
CREATE TABLE components (
	report_id BIGINT NOT NULL REFERENCES reports(id),
	kind TEXT NOT NULL CHECK (kind <> ''),
	name {text} NOT NULL,
	version {text} NOT NULL,
	purl {text} NOT NULL,
	digests TEXT NOT NULL,
	path TEXT NOT NULL
);
CREATE INDEX components_purl ON components(purl);
CREATE INDEX components_name ON components(name, version);
CREATE INDEX components_report ON components(report_id);
CREATE TABLE tokens (
	hash TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	scope TEXT NOT NULL CHECK (scope IN ('read', 'push', 'admin')),
	project TEXT NOT NULL,
	created BIGINT NOT NULL
);
CREATE TABLE server_state (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`,
	// 2: advisories and the findings matching them against deployments.
	// Components gain the key advisories are matched by (OSV ecosystem
	// and normalized name) and an index of their file digests. Reports
	// stored before this migration are matched once pushed again.
	2: `
ALTER TABLE components ADD COLUMN ecosystem {text} NOT NULL DEFAULT '';
ALTER TABLE components ADD COLUMN norm_name {text} NOT NULL DEFAULT '';
CREATE INDEX components_package ON components(ecosystem, norm_name);
CREATE TABLE component_digests (
	report_id BIGINT NOT NULL REFERENCES reports(id),
	digest {text} NOT NULL
);
CREATE INDEX component_digests_digest ON component_digests(digest);
CREATE TABLE advisories (
	id {text} PRIMARY KEY,
	modified BIGINT NOT NULL,
	imported BIGINT NOT NULL,
	matched BIGINT NOT NULL DEFAULT 0,
	raw {blob} NOT NULL
);
CREATE TABLE advisory_packages (
	ecosystem {text} NOT NULL,
	name {text} NOT NULL,
	advisory {text} NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
	PRIMARY KEY (ecosystem, name, advisory)
);
CREATE INDEX advisory_packages_advisory ON advisory_packages(advisory);
CREATE TABLE advisory_digests (
	digest {text} NOT NULL,
	advisory {text} NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
	PRIMARY KEY (digest, advisory)
);
CREATE INDEX advisory_digests_advisory ON advisory_digests(advisory);
CREATE TABLE findings (
	id {id},
	project {text} NOT NULL REFERENCES projects(name),
	env {text} NOT NULL,
	report_id BIGINT NOT NULL REFERENCES reports(id),
	component {text} NOT NULL,
	name {text} NOT NULL,
	version {text} NOT NULL,
	advisory {text} NOT NULL,
	aliases TEXT NOT NULL,
	severity INTEGER NOT NULL,
	rule TEXT NOT NULL,
	evidence TEXT NOT NULL,
	message TEXT NOT NULL,
	remediation TEXT NOT NULL,
	first_seen BIGINT NOT NULL,
	last_seen BIGINT NOT NULL,
	resolved_at BIGINT,
	run TEXT NOT NULL,
	UNIQUE (project, env, component, advisory, rule)
);
CREATE INDEX findings_advisory ON findings(advisory, resolved_at);
CREATE INDEX findings_deployment ON findings(project, env, resolved_at);
`,
	// 3: alert rules and the webhook deliveries of their findings. The
	// queue is these tables, so that any replica may send any delivery.
	3: `
CREATE TABLE alert_rules (
	id {id},
	name TEXT NOT NULL,
	min_severity INTEGER NOT NULL,
	tiers TEXT NOT NULL,
	owner_glob TEXT NOT NULL,
	project_glob TEXT NOT NULL,
	url TEXT NOT NULL,
	secret TEXT NOT NULL,
	format TEXT NOT NULL CHECK (format IN ('json', 'slack')),
	mode TEXT NOT NULL CHECK (mode IN ('immediate', 'digest')),
	digest_minutes INTEGER NOT NULL,
	digest_due BIGINT NOT NULL,
	created BIGINT NOT NULL
);
CREATE TABLE alert_pending (
	id {id},
	rule_id BIGINT NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
	finding TEXT NOT NULL,
	created BIGINT NOT NULL
);
CREATE INDEX alert_pending_rule ON alert_pending(rule_id, id);
CREATE TABLE deliveries (
	id {id},
	rule_id BIGINT NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
	payload TEXT NOT NULL,
	created BIGINT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL,
	last_error TEXT NOT NULL DEFAULT '',
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);
CREATE INDEX deliveries_rule ON deliveries(rule_id, id);
CREATE TABLE delivery_attempts (
	delivery_id BIGINT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
	attempt INTEGER NOT NULL,
	at BIGINT NOT NULL,
	status_code INTEGER NOT NULL,
	error TEXT NOT NULL,
	status TEXT NOT NULL,
	PRIMARY KEY (delivery_id, attempt)
);
`,
	// 4: incidents, the projects each touched (what a project-limited
	// token sees) and their checklists.
	4: `
CREATE TABLE incidents (
	id {id},
	title TEXT NOT NULL,
	advisory {text} NOT NULL,
	query TEXT NOT NULL,
	opened_by TEXT NOT NULL,
	opened BIGINT NOT NULL,
	closed BIGINT
);
CREATE INDEX incidents_opened ON incidents(opened);
CREATE TABLE incident_projects (
	incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
	project {text} NOT NULL,
	PRIMARY KEY (incident_id, project)
);
CREATE INDEX incident_projects_project ON incident_projects(project);
CREATE TABLE incident_steps (
	incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
	step TEXT NOT NULL,
	position INTEGER NOT NULL,
	done_at BIGINT,
	done_by TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (incident_id, step)
);
`,
	// 5: the advisory feeds the server polls, with what the last poll
	// saw (validators for a conditional request) and the lease of the
	// replica polling one now.
	5: `
CREATE TABLE advisory_feeds (
	url TEXT PRIMARY KEY,
	etag TEXT NOT NULL DEFAULT '',
	last_modified TEXT NOT NULL DEFAULT '',
	last_result TEXT NOT NULL DEFAULT '',
	polled BIGINT NOT NULL DEFAULT 0,
	next_poll BIGINT NOT NULL DEFAULT 0,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0
);
`,
	// 6: matching work any replica may finish (see ClaimMatchWork): the
	// report each deployment was last matched with, and leases on the
	// advisories and deployments being matched. Every deployment counts
	// as matched, since the server matched each push as it stored it;
	// backfill then re-indexes the reports stored before migration 2
	// and marks their deployments for matching.
	6: `
ALTER TABLE deployments ADD COLUMN matched BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deployments ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
UPDATE deployments SET matched = report_id;
CREATE INDEX deployments_unmatched ON deployments(received) WHERE matched <> report_id;
ALTER TABLE advisories ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE advisories ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX advisories_unmatched ON advisories(imported) WHERE matched < modified;
CREATE INDEX component_digests_report ON component_digests(report_id);
`,
	// 7: token IDs (the first 16 hex digits of the hash, unique, by which
	// a token is listed and revoked), expiry and revocation times; 0 is
	// never.
	7: `
ALTER TABLE tokens ADD COLUMN id TEXT NOT NULL DEFAULT '';
UPDATE tokens SET id = substr(hash, 1, 16);
CREATE UNIQUE INDEX tokens_id ON tokens(id);
ALTER TABLE tokens ADD COLUMN expires BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN revoked BIGINT NOT NULL DEFAULT 0;
`,
	// 8: the components of each deployment's latest report are marked
	// live, and indexed apart, so that "who runs X now?" reads the
	// fleet's current components, not every report it ever pushed.
	8: `
ALTER TABLE components ADD COLUMN live SMALLINT NOT NULL DEFAULT 0;
UPDATE components SET live = 1 WHERE report_id IN (SELECT report_id FROM deployments);
CREATE INDEX components_live_purl ON components(purl) WHERE live = 1;
CREATE INDEX components_live_package ON components(ecosystem, norm_name) WHERE live = 1;
CREATE INDEX components_live_name ON components(name, version) WHERE live = 1;
`,
	// 9: the service endpoints each component calls (its endpoints
	// property, and the url of a plugin), by host, so that "who calls
	// this API?" is asked like "who runs X?". Each row repeats what a
	// Match shows of its component. The latest report of each
	// deployment is indexed by backfillEndpoints; earlier reports stay
	// unindexed.
	9: `
CREATE TABLE component_endpoints (
	report_id BIGINT NOT NULL REFERENCES reports(id),
	host {text} NOT NULL,
	url {text} NOT NULL,
	kind TEXT NOT NULL,
	name {text} NOT NULL,
	version {text} NOT NULL,
	purl {text} NOT NULL,
	digests TEXT NOT NULL,
	path TEXT NOT NULL
);
CREATE INDEX component_endpoints_host ON component_endpoints(host);
CREATE INDEX component_endpoints_report ON component_endpoints(report_id);
`,
}

// migrationSteps are the parts of migrations SQL cannot express, run in
// the migration's transaction after its statements.
var migrationSteps = map[int64]func(ctx context.Context, s *sqlStore, tx *sql.Tx) error{
	6: backfill,
	9: backfillEndpoints,
}

// migrateLock is the PostgreSQL advisory lock key that serialises
// migrations of replicas starting at once ("cvet" in ASCII).
const migrateLock = 0x63766574

// migrateTo brings the schema up to version latest (tests stop early to
// build an old database).
func (s *sqlStore) migrateTo(ctx context.Context, latest int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	if s.d.numbered {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return fmt.Errorf("store: migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	var have sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if have.Int64 > int64(len(migrations)-1) {
		return fmt.Errorf("store: database schema is version %d, newer than this chainvet's %d: upgrade chainvet", have.Int64, len(migrations)-1)
	}
	for v := have.Int64 + 1; v <= latest; v++ {
		for _, stmt := range strings.Split(s.d.types.Replace(migrations[v]), ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("store: migration %d: %w", v, err)
			}
		}
		if step := migrationSteps[v]; step != nil {
			if err := step(ctx, s, tx); err != nil {
				return fmt.Errorf("store: migration %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`), v, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("store: migration %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

func (s *sqlStore) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }
func (s *sqlStore) Close() error                   { return s.db.Close() }

func (s *sqlStore) PutProject(ctx context.Context, p Project) error {
	owners, tags := jsonList(p.Owners), jsonList(p.Tags)
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO projects (name, owners, tier, tags, created) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET owners = excluded.owners, tier = excluded.tier, tags = excluded.tags`),
		p.Name, owners, p.Tier, tags, time.Now().UnixMicro())
	if err != nil {
		return fmt.Errorf("store: project %s: %w", p.Name, err)
	}
	return nil
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

func parseList(s string) []string {
	var l []string
	if json.Unmarshal([]byte(s), &l) != nil || l == nil {
		return []string{}
	}
	return l
}

func (s *sqlStore) Projects(ctx context.Context) ([]Project, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, owners, tier, tags FROM projects ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: projects: %w", err)
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		var p Project
		var owners, tags string
		if err := rows.Scan(&p.Name, &owners, &p.Tier, &tags); err != nil {
			return nil, fmt.Errorf("store: projects: %w", err)
		}
		p.Owners, p.Tags = parseList(owners), parseList(tags)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: projects: %w", err)
	}
	return out, nil
}

func (s *sqlStore) Project(ctx context.Context, name string) (Project, error) {
	p := Project{Name: name}
	var owners, tags string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT owners, tier, tags FROM projects WHERE name = ?`), name).Scan(&owners, &p.Tier, &tags)
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, fmt.Errorf("project %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Project{}, fmt.Errorf("store: project %s: %w", name, err)
	}
	p.Owners, p.Tags = parseList(owners), parseList(tags)
	return p, nil
}

// componentBatch is the number of component rows inserted per statement:
// 9 parameters each stays far below SQLite's 32766 and PostgreSQL's 65535.
const componentBatch = 256

func (s *sqlStore) AddReport(ctx context.Context, u Upload) (int64, bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("store: add report: %w", err)
	}
	defer tx.Rollback()
	fail := func(err error) (int64, bool, error) {
		return 0, false, fmt.Errorf("store: add report to %s: %w", u.Project, err)
	}
	received := u.Received.UnixMicro()
	if u.Meta != nil {
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO projects (name, owners, tier, tags, created) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET owners = excluded.owners, tier = excluded.tier, tags = excluded.tags`),
			u.Project, jsonList(u.Meta.Owners), u.Meta.Tier, jsonList(u.Meta.Tags), received)
	} else {
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO projects (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`), u.Project, received)
	}
	if err != nil {
		return fail(err)
	}
	var id int64
	err = tx.QueryRowContext(ctx, s.q(`INSERT INTO reports (project, version, env, digest, format, received, ncomponents, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project, version, env, digest) DO NOTHING RETURNING id`),
		u.Project, u.Version, u.Env, u.Digest, u.Format, received, len(u.Components), u.Body).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		// Stored before, possibly by another replica a moment ago: its
		// row is committed, since the insert above waited for it.
		err = tx.QueryRowContext(ctx, s.q(`SELECT id FROM reports WHERE project = ? AND version = ? AND env = ? AND digest = ?`),
			u.Project, u.Version, u.Env, u.Digest).Scan(&id)
		if err != nil {
			return fail(err)
		}
		// Pushed again, it is deployed again: a rollback to an earlier
		// release re-pushes that release's report unchanged.
		if err := s.deploy(ctx, tx, u.Project, u.Env, id, received); err != nil {
			return fail(err)
		}
		if err := tx.Commit(); err != nil { // keeps Meta's and the deployment's update
			return fail(err)
		}
		return id, false, nil
	}
	if err != nil {
		return fail(err)
	}
	for start := 0; start < len(u.Components); start += componentBatch {
		batch := u.Components[start:min(start+componentBatch, len(u.Components))]
		var b strings.Builder
		// Stored live: a new report is almost always its deployment's
		// latest, and deploy unmarks it when it is not.
		b.WriteString(`INSERT INTO components (report_id, kind, name, version, purl, digests, path, ecosystem, norm_name, live) VALUES `)
		args := make([]any, 0, 9*len(batch))
		var digests []any
		for i, c := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, 1)")
			eco, norm := PackageKey(c.PURL, c.Name)
			args = append(args, id, string(c.Kind), c.Name, c.Version, c.PURL, digestList(c.Digests), firstPath(c), eco, norm)
			for _, d := range c.Digests {
				if d.Algorithm == "sha256" || d.Algorithm == "sha512" {
					digests = append(digests, id, d.Algorithm+":"+d.Value)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
			return fail(err)
		}
		if err := s.insertDigests(ctx, tx, digests); err != nil {
			return fail(err)
		}
	}
	if err := s.insertEndpoints(ctx, tx, id, u.Components); err != nil {
		return fail(err)
	}
	if err := s.deploy(ctx, tx, u.Project, u.Env, id, received); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return id, true, nil
}

// deploy makes report id, pushed at received, the latest of its
// deployment: the latest is the one pushed last, so an upload stamped
// earlier by a replica whose clock lags does not replace it. The
// components of the latest report are live, those of the report it
// replaces no longer. A report that becomes the latest is to be matched
// (see ClaimMatchWork); one that already is keeps its state.
func (s *sqlStore) deploy(ctx context.Context, tx *sql.Tx, project, env string, id, received int64) error {
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO deployments (project, env, report_id, received) VALUES (?, ?, ?, ?)
ON CONFLICT (project, env) DO NOTHING`), project, env, id, received)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 1 {
		return s.setLive(ctx, tx, id, 1)
	}
	// The deployment exists: its row is read locked (under SQLite the
	// transaction holds the write lock already), so that of two pushes
	// at once the second sees the first's report, and unmarks it.
	lock := ""
	if s.d.numbered {
		lock = " FOR UPDATE"
	}
	var cur, curReceived int64
	if err := tx.QueryRowContext(ctx, s.q(`SELECT report_id, received FROM deployments WHERE project = ? AND env = ?`+lock), project, env).Scan(&cur, &curReceived); err != nil {
		return err
	}
	if cur == id {
		return nil
	}
	if received < curReceived {
		return s.setLive(ctx, tx, id, 0)
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE deployments SET report_id = ?, received = ? WHERE project = ? AND env = ?`), id, received, project, env); err != nil {
		return err
	}
	if err := s.setLive(ctx, tx, cur, 0); err != nil {
		return err
	}
	return s.setLive(ctx, tx, id, 1)
}

// setLive marks the components of a report live (1) or not (0).
func (s *sqlStore) setLive(ctx context.Context, tx *sql.Tx, report int64, live int) error {
	_, err := tx.ExecContext(ctx, s.q(`UPDATE components SET live = ? WHERE report_id = ? AND live <> ?`), live, report, live)
	return err
}

// digestList writes digests as "algorithm:value" separated by spaces.
func digestList(ds []inventory.Digest) string {
	l := make([]string, len(ds))
	for i, d := range ds {
		l[i] = d.Algorithm + ":" + d.Value
	}
	return strings.Join(l, " ")
}

func firstPath(c inventory.Component) string {
	if len(c.Locations) > 0 {
		return c.Locations[0].Path
	}
	return ""
}

const reportColumns = `r.id, r.project, r.version, r.env, r.digest, r.format, r.received, r.ncomponents`

func scanReports(rows *sql.Rows) ([]ReportInfo, error) {
	defer rows.Close()
	var out []ReportInfo
	for rows.Next() {
		var r ReportInfo
		var received int64
		if err := rows.Scan(&r.ID, &r.Project, &r.Version, &r.Env, &r.Digest, &r.Format, &received, &r.Components); err != nil {
			return nil, err
		}
		r.Received = time.UnixMicro(received).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *sqlStore) Reports(ctx context.Context, project string, limit int) ([]ReportInfo, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+reportColumns+` FROM reports r WHERE r.project = ? ORDER BY r.received DESC, r.id DESC LIMIT ?`), project, limit)
	if err != nil {
		return nil, fmt.Errorf("store: reports of %s: %w", project, err)
	}
	out, err := scanReports(rows)
	if err != nil {
		return nil, fmt.Errorf("store: reports of %s: %w", project, err)
	}
	return out, nil
}

func (s *sqlStore) Deployments(ctx context.Context, project string) ([]ReportInfo, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+reportColumns+` FROM deployments d JOIN reports r ON r.id = d.report_id WHERE d.project = ? ORDER BY d.env`), project)
	if err != nil {
		return nil, fmt.Errorf("store: deployments of %s: %w", project, err)
	}
	out, err := scanReports(rows)
	if err != nil {
		return nil, fmt.Errorf("store: deployments of %s: %w", project, err)
	}
	return out, nil
}

func (s *sqlStore) ReportBody(ctx context.Context, id int64) ([]byte, error) {
	var body []byte
	err := s.db.QueryRowContext(ctx, s.q(`SELECT body FROM reports WHERE id = ?`), id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("report %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: report %d: %w", id, err)
	}
	return body, nil
}

func (s *sqlStore) FindComponents(ctx context.Context, q ComponentQuery) ([]Match, error) {
	var (
		where []string
		args  []any
	)
	switch {
	case q.Range != "":
		return nil, errors.New("store: find components: a range query needs FindComponentsInRange")
	case q.Endpoint != "":
		if q.PURL != "" || q.Ecosystem != "" || q.Digest != "" || q.Name != "" {
			return nil, errors.New("store: find components: an endpoint query selects by endpoint alone")
		}
		host, err := EndpointHost(q.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("store: find components: %w", err)
		}
		where = append(where, "c.host = ?")
		args = append(args, host)
	case q.PURL != "" && !strings.Contains(q.PURL, "@"):
		// Every version: "pkg:pypi/torch@…" sorts between "…@" and
		// "…A" ('A' follows '@'), a range the purl index answers.
		where = append(where, "(c.purl = ? OR (c.purl >= ? AND c.purl < ?))")
		args = append(args, q.PURL, q.PURL+"@", q.PURL+"A")
	case q.PURL != "":
		where = append(where, "c.purl = ?")
		args = append(args, q.PURL)
	case q.Ecosystem != "":
		where = append(where, "c.ecosystem = ? AND c.norm_name = ?")
		args = append(args, q.Ecosystem, q.Package)
	case q.Digest != "":
		// The digest index finds the reports; the component's own list
		// says which of their components hold it.
		where = append(where, "c.report_id IN (SELECT report_id FROM component_digests WHERE digest = ?) AND (' ' || c.digests || ' ') LIKE ?")
		args = append(args, q.Digest, "% "+q.Digest+" %")
	case q.Name != "":
		where = append(where, "c.name = ?")
		args = append(args, q.Name)
		if q.Version != "" {
			where = append(where, "c.version = ?")
			args = append(args, q.Version)
		}
	default:
		return nil, errors.New("store: find components: give a purl, a package, a digest or a name")
	}
	ms, err := s.matches(ctx, q, where, args, nil)
	if err != nil {
		return nil, fmt.Errorf("store: find components: %w", err)
	}
	return ms, nil
}

// maxRangeVersions bounds the versions FindComponentsInRange lists in
// its query's IN (…): beyond it (a package deployed at thousands of
// versions in the range) it filters the package's rows as it reads them.
const maxRangeVersions = 1000

// FindComponentsInRange first reads the distinct versions of the package
// among the rows the query reads — a few, from the package index — keeps
// those in the range, and then reads the matches of these versions only:
// the database sorts and limits them as for FindComponents.
func (s *sqlStore) FindComponentsInRange(ctx context.Context, q ComponentQuery) ([]Match, int, error) {
	if q.Endpoint != "" {
		return nil, 0, errors.New("store: find components in range: an endpoint query has no range")
	}
	eco, pkg := q.Ecosystem, q.Package
	if eco == "" {
		if q.PURL == "" || strings.Contains(q.PURL, "@") {
			return nil, 0, errors.New("store: find components in range: give a package or a purl without a version")
		}
		if eco, pkg = PURLPackageKey(q.PURL); eco == "" {
			return nil, 0, fmt.Errorf("store: find components in range: %s: %w", q.PURL, ErrNoEcosystem)
		}
	}
	c, err := version.ParseConstraint(eco, q.Range)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find components in range of %s %s: %w", eco, pkg, err)
	}
	fail := func(err error) ([]Match, int, error) {
		return nil, 0, fmt.Errorf("store: find components of %s %s in range %s: %w", eco, pkg, q.Range, err)
	}
	where := []string{"c.ecosystem = ? AND c.norm_name = ?"}
	args := []any{eco, pkg}
	from, pwhere, pargs := componentsFrom(q)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT DISTINCT c.version FROM `+from+` WHERE `+
		strings.Join(append(where, pwhere...), " AND ")), append(args, pargs...)...)
	if err != nil {
		return fail(err)
	}
	var keep []string
	skipped := 0
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fail(err)
		}
		switch in, err := c.Contains(v); {
		case err != nil:
			skipped++
		case in:
			keep = append(keep, v)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if len(keep) == 0 {
		return nil, skipped, nil
	}
	var only map[string]bool
	if len(keep) <= maxRangeVersions {
		where = append(where, "c.version IN (?"+strings.Repeat(", ?", len(keep)-1)+")")
		for _, v := range keep {
			args = append(args, v)
		}
	} else {
		only = make(map[string]bool, len(keep))
		for _, v := range keep {
			only[v] = true
		}
	}
	ms, err := s.matches(ctx, q, where, args, only)
	if err != nil {
		return fail(err)
	}
	return ms, skipped, nil
}

// ErrNoEcosystem reports a purl whose type maps to no ecosystem chainvet
// knows (see PackageKey), so that its versions cannot be ordered.
var ErrNoEcosystem = errors.New("store: no known ecosystem")

// componentsFrom is the FROM clause of a component query — the latest
// report of each deployment, or with History every report — and the
// condition limiting it to q's project. An endpoint query reads
// component_endpoints as c: its rows have the columns of components a
// Match shows.
func componentsFrom(q ComponentQuery) (from string, where []string, args []any) {
	from = `components c JOIN reports r ON r.id = c.report_id`
	switch {
	case q.Endpoint != "":
		from = `component_endpoints c JOIN reports r ON r.id = c.report_id`
		if !q.History {
			where = []string{"c.report_id IN (SELECT report_id FROM deployments)"}
		}
	case !q.History:
		// A literal, so that both databases pick the partial indexes.
		where = []string{"c.live = 1"}
	}
	if q.Project != "" {
		where, args = append(where, "r.project = ?"), []any{q.Project}
	}
	return from, where, args
}

// matches reads the components meeting where, sorted, at most q.Limit
// (DefaultLimit when 0). When only is not nil, it also keeps only the
// components whose version it holds, as it reads them.
func (s *sqlStore) matches(ctx context.Context, q ComponentQuery, where []string, args []any, only map[string]bool) ([]Match, error) {
	from, pwhere, pargs := componentsFrom(q)
	where, args = append(where, pwhere...), append(args, pargs...)
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	endpoint := "''"
	if q.Endpoint != "" {
		endpoint = "c.url"
	}
	query := `SELECT r.project, p.owners, p.tier, r.env, r.version, r.id, r.received, c.kind, c.name, c.version, c.purl, c.digests, c.path, ` + endpoint + `
FROM ` + from + ` JOIN projects p ON p.name = r.project
WHERE ` + strings.Join(where, " AND ") + `
ORDER BY r.project, r.env, r.received DESC, c.name, c.version, c.path`
	if only == nil {
		query += "\nLIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out []Match
		// Rows come sorted by project: its owners are read once per run
		// of its rows, and the matches share the list.
		ownersText string
		owners     []string
	)
	for len(out) < limit && rows.Next() {
		var m Match
		var ownersNow, digests string
		var received int64
		if err := rows.Scan(&m.Project, &ownersNow, &m.Tier, &m.Env, &m.Version, &m.ReportID, &received,
			&m.Kind, &m.Name, &m.CVersion, &m.PURL, &digests, &m.Path, &m.Endpoint); err != nil {
			return nil, err
		}
		if only != nil && !only[m.CVersion] {
			continue
		}
		if owners == nil || ownersNow != ownersText {
			ownersText, owners = ownersNow, parseList(ownersNow)
		}
		m.Owners = owners
		m.Received = time.UnixMicro(received).UTC()
		if digests != "" {
			m.Digests = strings.Split(digests, " ")
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *sqlStore) AddToken(ctx context.Context, t Token) error {
	return s.addToken(ctx, s.db, t)
}

// execer is what *sql.DB and *sql.Tx share.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *sqlStore) addToken(ctx context.Context, e execer, t Token) error {
	_, err := e.ExecContext(ctx, s.q(`INSERT INTO tokens (hash, id, name, scope, project, created, expires, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		t.Hash, t.ID(), t.Name, t.Scope, t.Project, t.Created.UnixMicro(), unixMicro(t.Expires), unixMicro(t.Revoked))
	if err != nil {
		return fmt.Errorf("store: add token %s: %w", t.Name, err)
	}
	return nil
}

// unixMicro stores a time that may be unset: the zero time is 0.
func unixMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicro reads what unixMicro stored.
func fromMicro(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

const tokenColumns = `hash, name, scope, project, created, expires, revoked`

func scanToken(row rowScanner) (Token, error) {
	var t Token
	var created, expires, revoked int64
	if err := row.Scan(&t.Hash, &t.Name, &t.Scope, &t.Project, &created, &expires, &revoked); err != nil {
		return Token{}, err
	}
	t.Created = time.UnixMicro(created).UTC()
	t.Expires, t.Revoked = fromMicro(expires), fromMicro(revoked)
	return t, nil
}

func (s *sqlStore) Token(ctx context.Context, hash string) (Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("token: %w", ErrNotFound)
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: token: %w", err)
	}
	return t, nil
}

func (s *sqlStore) Tokens(ctx context.Context, project string) ([]Token, error) {
	query, args := `SELECT `+tokenColumns+` FROM tokens ORDER BY created, id`, []any{}
	if project != "" {
		query, args = `SELECT `+tokenColumns+` FROM tokens WHERE project = ? ORDER BY created, id`, []any{project}
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	return out, nil
}

func (s *sqlStore) TokenByID(ctx context.Context, id string) (Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM tokens WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("token %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: token %s: %w", id, err)
	}
	return t, nil
}

func (s *sqlStore) RevokeToken(ctx context.Context, id string, at time.Time) (Token, error) {
	// The first revocation's time stays: revoking again changes nothing.
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE tokens SET revoked = ? WHERE id = ? AND revoked = 0`), unixMicro(at), id); err != nil {
		return Token{}, fmt.Errorf("store: revoke token %s: %w", id, err)
	}
	return s.TokenByID(ctx, id)
}

func (s *sqlStore) Bootstrap(ctx context.Context, t Token) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: bootstrap: %w", err)
	}
	defer tx.Rollback()
	// The server_state row is the claim: of replicas racing here, one
	// inserts it and the others find it taken.
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO server_state (key, value) VALUES ('bootstrap', ?) ON CONFLICT (key) DO NOTHING`), strconv.FormatInt(t.Created.UnixMicro(), 10))
	if err != nil {
		return false, fmt.Errorf("store: bootstrap: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil {
		return false, fmt.Errorf("store: bootstrap: %w", err)
	}
	if n > 0 {
		return false, tx.Commit()
	}
	if err := s.addToken(ctx, tx, t); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: bootstrap: %w", err)
	}
	return true, nil
}
