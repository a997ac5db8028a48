package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Incidents is the part of a store that keeps incidents: what an
// advisory or a "who runs X?" answer set off, the projects it touched,
// and the containment checklist with the time each step was done.
type Incidents interface {
	// OpenIncident stores a new incident with its steps (none done) and
	// returns its id.
	OpenIncident(ctx context.Context, in Incident) (int64, error)
	// Incident returns one incident, or ErrNotFound.
	Incident(ctx context.Context, id int64) (Incident, error)
	// ListIncidents lists incidents, newest first.
	ListIncidents(ctx context.Context, q IncidentQuery) ([]Incident, error)
	// CompleteStep marks a step of an open incident done at at, by by.
	// A step done before keeps its first time. It returns ErrNotFound for
	// an unknown incident or step, and ErrClosed for a closed incident.
	CompleteStep(ctx context.Context, id int64, step, by string, at time.Time) error
	// CloseIncident closes an incident at at; closing a closed one keeps
	// the first time. It returns ErrNotFound for an unknown incident.
	CloseIncident(ctx context.Context, id int64, at time.Time) error
	// FindingCounts counts open findings by severity, of one project
	// when project is not empty.
	FindingCounts(ctx context.Context, project string) (map[inventory.Severity]int, error)
}

// ErrClosed reports a change to a closed incident.
var ErrClosed = errors.New("store: incident is closed")

// DefaultSteps is the containment checklist of a new incident, in order.
var DefaultSteps = []string{"triage", "freeze", "rotate", "pin-back", "verify", "close"}

// An Incident is a containment effort: one advisory, or one component
// query, and the deployments it affects.
type Incident struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	// Advisory is the advisory it was opened from; empty when opened
	// from Query.
	Advisory string `json:"advisory,omitempty"`
	// Query is the component query it was opened from, when Advisory is
	// empty.
	Query *ComponentQuery `json:"query,omitempty"`
	// Projects are the projects it affected when opened: a
	// project-limited token sees the incidents that touch its project.
	Projects []string  `json:"projects"`
	OpenedBy string    `json:"openedBy"`
	Opened   time.Time `json:"opened"`
	// Closed is when it was closed; nil while open.
	Closed *time.Time `json:"closed,omitempty"`
	Steps  []Step     `json:"steps"`
	// Detection summarises the advisory's findings across the fleet;
	// zero for an incident opened from a query.
	Detection Detection `json:"detection"`
}

// A Step is one item of an incident's checklist.
type Step struct {
	Name string `json:"name"`
	// Done is when it was done; nil until then.
	Done *time.Time `json:"done,omitempty"`
	By   string     `json:"by,omitempty"`
}

// Detection is what the findings of an incident's advisory say about it.
type Detection struct {
	// FirstFinding is the first-seen time of its earliest finding.
	FirstFinding *time.Time `json:"firstFinding,omitempty"`
	// LastResolved is the latest time one of its findings was resolved.
	LastResolved *time.Time `json:"lastResolved,omitempty"`
	// Open counts its open findings.
	Open int `json:"open"`
	// Total counts its findings, open or resolved.
	Total int `json:"total"`
}

// An IncidentQuery selects incidents; empty fields select all.
type IncidentQuery struct {
	// Project selects the incidents that touched it.
	Project string
	// Status is StatusOpen, StatusResolved (closed) or StatusAll (when empty).
	Status string
	// Limit caps the answer; 0 means DefaultLimit.
	Limit int
}

// incidentColumns are read by scanIncident.
const incidentColumns = `i.id, i.title, i.advisory, i.query, i.opened_by, i.opened, i.closed`

func (s *sqlStore) OpenIncident(ctx context.Context, in Incident) (int64, error) {
	steps := in.Steps
	if len(steps) == 0 {
		for _, n := range DefaultSteps {
			steps = append(steps, Step{Name: n})
		}
	}
	query := ""
	if in.Query != nil {
		query = encodeQuery(*in.Query)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: open incident: %w", err)
	}
	defer tx.Rollback()
	fail := func(err error) (int64, error) { return 0, fmt.Errorf("store: open incident: %w", err) }
	var id int64
	err = tx.QueryRowContext(ctx, s.q(`INSERT INTO incidents (title, advisory, query, opened_by, opened) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		in.Title, in.Advisory, query, in.OpenedBy, in.Opened.UnixMicro()).Scan(&id)
	if err != nil {
		return fail(err)
	}
	for i, st := range steps {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO incident_steps (incident_id, step, position) VALUES (?, ?, ?)`), id, st.Name, i); err != nil {
			return fail(err)
		}
	}
	projects := slices.Clone(in.Projects)
	slices.Sort(projects)
	for _, p := range slices.Compact(projects) {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO incident_projects (incident_id, project) VALUES (?, ?)`), id, p); err != nil {
			return fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return id, nil
}

// encodeQuery stores a component query as the fields it sets, one
// "key=value" a line; values hold no newline (the server checks fields).
func encodeQuery(q ComponentQuery) string {
	var l []string
	for _, kv := range [][2]string{{"purl", q.PURL}, {"range", q.Range}, {"name", q.Name}, {"version", q.Version}, {"digest", q.Digest}, {"endpoint", q.Endpoint}} {
		if kv[1] != "" {
			l = append(l, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(l, "\n")
}

func decodeQuery(s string) *ComponentQuery {
	if s == "" {
		return nil
	}
	q := &ComponentQuery{}
	for line := range strings.SplitSeq(s, "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "purl":
			q.PURL = v
		case "range":
			q.Range = v
		case "name":
			q.Name = v
		case "version":
			q.Version = v
		case "digest":
			q.Digest = v
		case "endpoint":
			q.Endpoint = v
		}
	}
	return q
}

func (s *sqlStore) Incident(ctx context.Context, id int64) (Incident, error) {
	l, err := s.incidents(ctx, `WHERE i.id = ?`, []any{id}, 1)
	if err != nil {
		return Incident{}, err
	}
	if len(l) == 0 {
		return Incident{}, fmt.Errorf("incident %d: %w", id, ErrNotFound)
	}
	return l[0], nil
}

func (s *sqlStore) ListIncidents(ctx context.Context, q IncidentQuery) ([]Incident, error) {
	var (
		where []string
		args  []any
	)
	switch q.Status {
	case "", StatusAll:
	case StatusOpen:
		where = append(where, "i.closed IS NULL")
	case StatusResolved:
		where = append(where, "i.closed IS NOT NULL")
	default:
		return nil, fmt.Errorf("store: incidents: unknown status %q", q.Status)
	}
	if q.Project != "" {
		where = append(where, "i.id IN (SELECT incident_id FROM incident_projects WHERE project = ?)")
		args = append(args, q.Project)
	}
	w := ""
	if len(where) > 0 {
		w = "WHERE " + strings.Join(where, " AND ")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	return s.incidents(ctx, w, args, limit)
}

// incidents reads the incidents a WHERE clause selects, newest first,
// with their projects, steps and detection.
func (s *sqlStore) incidents(ctx context.Context, where string, args []any, limit int) ([]Incident, error) {
	fail := func(err error) ([]Incident, error) { return nil, fmt.Errorf("store: incidents: %w", err) }
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+incidentColumns+` FROM incidents i `+where+` ORDER BY i.opened DESC, i.id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return fail(err)
	}
	var out []Incident
	for rows.Next() {
		var (
			in     Incident
			query  string
			opened int64
			closed sql.NullInt64
		)
		if err := rows.Scan(&in.ID, &in.Title, &in.Advisory, &query, &in.OpenedBy, &opened, &closed); err != nil {
			rows.Close()
			return fail(err)
		}
		in.Query = decodeQuery(query)
		in.Opened = time.UnixMicro(opened).UTC()
		in.Closed = microPtr(closed)
		out = append(out, in)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	// One incident page or list is small (DefaultLimit at most): a few
	// indexed queries each keep the SQL plain on both databases.
	for i := range out {
		if err := s.fillIncident(ctx, &out[i]); err != nil {
			return fail(err)
		}
	}
	return out, nil
}

func microPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMicro(v.Int64).UTC()
	return &t
}

func (s *sqlStore) fillIncident(ctx context.Context, in *Incident) error {
	in.Projects = []string{}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT project FROM incident_projects WHERE incident_id = ? ORDER BY project`), in.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return err
		}
		in.Projects = append(in.Projects, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	in.Steps = []Step{}
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT step, done_at, done_by FROM incident_steps WHERE incident_id = ? ORDER BY position`), in.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var st Step
		var done sql.NullInt64
		if err := rows.Scan(&st.Name, &done, &st.By); err != nil {
			rows.Close()
			return err
		}
		st.Done = microPtr(done)
		in.Steps = append(in.Steps, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if in.Advisory == "" {
		return nil
	}
	var first, last sql.NullInt64
	err = s.db.QueryRowContext(ctx, s.q(`SELECT MIN(first_seen), MAX(resolved_at), COUNT(*), COUNT(*) - COUNT(resolved_at) FROM findings WHERE advisory = ?`),
		in.Advisory).Scan(&first, &last, &in.Detection.Total, &in.Detection.Open)
	if err != nil {
		return err
	}
	in.Detection.FirstFinding, in.Detection.LastResolved = microPtr(first), microPtr(last)
	return nil
}

func (s *sqlStore) CompleteStep(ctx context.Context, id int64, step, by string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: incident %d: step %s: %w", id, step, err)
	}
	defer tx.Rollback()
	var closed sql.NullInt64
	err = tx.QueryRowContext(ctx, s.q(`SELECT closed FROM incidents WHERE id = ?`), id).Scan(&closed)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("incident %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: incident %d: step %s: %w", id, step, err)
	}
	if closed.Valid {
		return fmt.Errorf("incident %d: %w", id, ErrClosed)
	}
	res, err := tx.ExecContext(ctx, s.q(`UPDATE incident_steps SET done_at = COALESCE(done_at, ?), done_by = CASE WHEN done_at IS NULL THEN ? ELSE done_by END
WHERE incident_id = ? AND step = ?`), at.UnixMicro(), by, id, step)
	if err != nil {
		return fmt.Errorf("store: incident %d: step %s: %w", id, step, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = fmt.Errorf("incident %d: step %q: %w", id, step, ErrNotFound)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: incident %d: step %s: %w", id, step, err)
	}
	return nil
}

func (s *sqlStore) CloseIncident(ctx context.Context, id int64, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE incidents SET closed = COALESCE(closed, ?) WHERE id = ?`), at.UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("store: close incident %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = fmt.Errorf("incident %d: %w", id, ErrNotFound)
		}
		return err
	}
	return nil
}

func (s *sqlStore) FindingCounts(ctx context.Context, project string) (map[inventory.Severity]int, error) {
	query, args := `SELECT severity, COUNT(*) FROM findings WHERE resolved_at IS NULL GROUP BY severity`, []any(nil)
	if project != "" {
		query, args = `SELECT severity, COUNT(*) FROM findings WHERE resolved_at IS NULL AND project = ? GROUP BY severity`, []any{project}
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: finding counts: %w", err)
	}
	defer rows.Close()
	out := map[inventory.Severity]int{}
	for rows.Next() {
		var sev, n int
		if err := rows.Scan(&sev, &n); err != nil {
			return nil, fmt.Errorf("store: finding counts: %w", err)
		}
		out[inventory.Severity(sev)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: finding counts: %w", err)
	}
	return out, nil
}

var _ Incidents = (*sqlStore)(nil)
