package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// A MatchStore hands out matching work that no run has finished: the
// server matches every advisory and every push as it stores them, and a
// replica that stops in between leaves the work here for another.
type MatchStore interface {
	// ClaimMatchWork leases to owner, until now+lease, at most limit
	// advisories and limit deployments that no current lease holds and
	// that became due before before: advisories whose stored copy was
	// never marked matched (see MarkMatched), and deployments whose
	// latest report was never matched against the advisories (see
	// MarkDeploymentMatched). It also lists, unleased, up to limit
	// advisories that open findings name but that are no longer stored:
	// withdrawn while a run resolving their findings stopped. Replicas
	// claiming at once never get the same advisory or deployment.
	ClaimMatchWork(ctx context.Context, owner string, before, now time.Time, lease time.Duration, limit int) (MatchWork, error)
	// MarkDeploymentMatched records that report reportID of a deployment
	// has been matched against every stored advisory, if it is still the
	// deployment's latest, and releases owner's lease on the deployment.
	MarkDeploymentMatched(ctx context.Context, project, env string, reportID int64, owner string) error
}

// MatchWork is what ClaimMatchWork hands out.
type MatchWork struct {
	Advisories  []Advisory
	Deployments []Deployment
	Orphans     []string
}

// A Deployment is an environment of a project and its latest report.
type Deployment struct {
	Project  string
	Env      string
	ReportID int64
}

func (s *sqlStore) ClaimMatchWork(ctx context.Context, owner string, before, now time.Time, lease time.Duration, limit int) (MatchWork, error) {
	var w MatchWork
	fail := func(err error) (MatchWork, error) { return MatchWork{}, fmt.Errorf("store: claim match work: %w", err) }
	at, due, until := now.UnixMicro(), before.UnixMicro(), now.Add(lease).UnixMicro()
	lock := ""
	if s.d.numbered {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	// The conditions are repeated outside the subquery: under SQLite
	// there is no row locking, and a row another claim took between the
	// two is then left alone.
	rows, err := s.db.QueryContext(ctx, s.q(`UPDATE advisories SET lease_owner = ?, lease_until = ?
WHERE id IN (SELECT id FROM advisories WHERE matched < modified AND imported < ? AND lease_until <= ? ORDER BY imported, id LIMIT ?`+lock+`)
AND matched < modified AND lease_until <= ? RETURNING id, modified, imported, raw`), owner, until, due, at, limit, at)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var a Advisory
		var mod, imported int64
		if err := rows.Scan(&a.ID, &mod, &imported, &a.Raw); err != nil {
			rows.Close()
			return fail(err)
		}
		a.Modified, a.Imported = time.UnixMicro(mod).UTC(), time.UnixMicro(imported).UTC()
		w.Advisories = append(w.Advisories, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}

	rows, err = s.db.QueryContext(ctx, s.q(`UPDATE deployments SET lease_owner = ?, lease_until = ?
WHERE (project, env) IN (SELECT project, env FROM deployments WHERE matched <> report_id AND received < ? AND lease_until <= ? ORDER BY received, project, env LIMIT ?`+lock+`)
AND matched <> report_id AND lease_until <= ? RETURNING project, env, report_id`), owner, until, due, at, limit, at)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var d Deployment
		if err := rows.Scan(&d.Project, &d.Env, &d.ReportID); err != nil {
			rows.Close()
			return fail(err)
		}
		w.Deployments = append(w.Deployments, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}

	rows, err = s.db.QueryContext(ctx, s.q(`SELECT DISTINCT f.advisory FROM findings f
WHERE f.resolved_at IS NULL AND NOT EXISTS (SELECT 1 FROM advisories a WHERE a.id = f.advisory) ORDER BY f.advisory LIMIT ?`), limit)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fail(err)
		}
		w.Orphans = append(w.Orphans, id)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return w, nil
}

func (s *sqlStore) MarkDeploymentMatched(ctx context.Context, project, env string, reportID int64, owner string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE deployments
SET matched = CASE WHEN report_id = ? THEN ? ELSE matched END,
    lease_until = CASE WHEN lease_owner = ? THEN 0 ELSE lease_until END
WHERE project = ? AND env = ?`), reportID, reportID, owner, project, env)
	if err != nil {
		return fmt.Errorf("store: mark %s/%s matched: %w", project, env, err)
	}
	return nil
}

// backfill indexes what reports stored before migration 2 lack — the
// package key of their components and their file digests — and marks
// their deployments for matching. Reports stored since have both, so on
// a database created at version 2 or later it finds nothing to do.
func backfill(ctx context.Context, s *sqlStore, tx *sql.Tx) error {
	touched := map[int64]bool{}

	type key struct{ purl, name string }
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT report_id, purl, name FROM components WHERE ecosystem = '' AND purl <> ''`)
	if err != nil {
		return fmt.Errorf("backfill package keys: %w", err)
	}
	byKey := map[key][]int64{}
	for rows.Next() {
		var id int64
		var k key
		if err := rows.Scan(&id, &k.purl, &k.name); err != nil {
			rows.Close()
			return fmt.Errorf("backfill package keys: %w", err)
		}
		byKey[k] = append(byKey[k], id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("backfill package keys: %w", err)
	}
	for k, ids := range byKey {
		eco, norm := PackageKey(k.purl, k.name)
		if eco == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE components SET ecosystem = ?, norm_name = ? WHERE ecosystem = '' AND purl = ? AND name = ?`), eco, norm, k.purl, k.name); err != nil {
			return fmt.Errorf("backfill package keys: %w", err)
		}
		for _, id := range ids {
			touched[id] = true
		}
	}

	// Reports with file digests none of which is indexed: found report
	// by report, so that a database whose reports are all indexed costs
	// one index probe per report, not one per component.
	rows, err = tx.QueryContext(ctx, `SELECT c.report_id, c.digests FROM components c
WHERE c.report_id IN (SELECT r.id FROM reports r WHERE NOT EXISTS (SELECT 1 FROM component_digests d WHERE d.report_id = r.id))
AND (c.digests LIKE '%sha256:%' OR c.digests LIKE '%sha512:%')`)
	if err != nil {
		return fmt.Errorf("backfill digests: %w", err)
	}
	var digests []any
	for rows.Next() {
		var id int64
		var list string
		if err := rows.Scan(&id, &list); err != nil {
			rows.Close()
			return fmt.Errorf("backfill digests: %w", err)
		}
		for _, d := range strings.Fields(list) {
			if strings.HasPrefix(d, "sha256:") || strings.HasPrefix(d, "sha512:") {
				digests = append(digests, id, d)
			}
		}
		touched[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("backfill digests: %w", err)
	}
	if err := s.insertDigests(ctx, tx, digests); err != nil {
		return fmt.Errorf("backfill digests: %w", err)
	}

	for id := range touched {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE deployments SET matched = 0 WHERE report_id = ?`), id); err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
	}
	return nil
}
