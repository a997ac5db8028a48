// Package storetest is the test suite every store backend must pass: run
// it with a function that gives a DSN of a fresh, empty database.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// Run runs the suite. newDSN returns the DSN of a new empty database each
// time it is called; the suite opens it, sometimes twice, as two replicas
// would.
func Run(t *testing.T, newDSN func(t *testing.T) string) {
	open := func(t *testing.T, dsn string) store.Store {
		t.Helper()
		s, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	tests := []struct {
		name string
		run  func(t *testing.T, dsn string, s store.Store)
	}{
		{"reopen_keeps_data", func(t *testing.T, dsn string, s store.Store) {
			mustAdd(t, s, upload("web", "1.0", "prod", t0, comp("torch", "2.5.1")))
			s2 := open(t, dsn) // migrations already applied: a no-op
			got, err := s2.Reports(context.Background(), "web", 10)
			if err != nil || len(got) != 1 {
				t.Fatalf("after reopen: %v, %v", got, err)
			}
		}},
		{"projects", testProjects},
		{"idempotent_upload", testIdempotent},
		{"report_body_and_history", testHistory},
		{"latest_deployment", testLatest},
		{"find_components", testFind},
		{"failed_insert_stores_nothing", testFailedInsert},
		{"tokens", testTokens},
		{"bootstrap", testBootstrap},
		{"token_lifecycle", func(t *testing.T, dsn string, s store.Store) {
			testTokenLifecycle(t, s, open(t, dsn))
		}},
		{"two_replicas_same_upload", func(t *testing.T, dsn string, s store.Store) {
			testReplicas(t, s, open(t, dsn))
		}},
		{"advisories", testAdvisories},
		{"package_and_digest_queries", testPackageQueries},
		{"version_range", testRange},
		{"version_range_many_versions", testRangeManyVersions},
		{"endpoints", testEndpoints},
		{"endpoint_limits", testEndpointLimits},
		{"endpoint_incident", testEndpointIncident},
		{"sync_findings", testSyncFindings},
		{"two_replicas_same_findings", func(t *testing.T, dsn string, s store.Store) {
			testReplicaFindings(t, s, open(t, dsn))
		}},
		{"alert_enqueue", testAlertEnqueue},
		{"alert_lease", testAlertLease},
		{"alert_digest", testAlertDigest},
		{"two_replicas_claim_deliveries", func(t *testing.T, dsn string, s store.Store) {
			testAlertReplicas(t, s, open(t, dsn))
		}},
		{"incidents", testIncidents},
		{"rollback_redeploys", testRollback},
		{"two_replicas_deploy_at_once", func(t *testing.T, dsn string, s store.Store) {
			testDeployRace(t, s, open(t, dsn))
		}},
		{"match_work", testMatchWork},
		{"two_replicas_claim_match_work", func(t *testing.T, dsn string, s store.Store) {
			testMatchWorkReplicas(t, s, open(t, dsn))
		}},
		{"advisory_feeds", Feeds},
		{"two_replicas_claim_feed", func(t *testing.T, dsn string, s store.Store) {
			FeedsTwoReplicas(t, s, open(t, dsn))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := newDSN(t)
			tt.run(t, dsn, open(t, dsn))
		})
	}
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func comp(name, version string) inventory.Component {
	return inventory.Component{
		ID: "pkg:pypi/" + name + "@" + version, Kind: inventory.KindPackage, Name: name, Version: version,
		PURL:      "pkg:pypi/" + name + "@" + version,
		Locations: []inventory.Location{{Path: "requirements.txt"}},
	}
}

func upload(project, version, env string, at time.Time, cs ...inventory.Component) store.Upload {
	body := fmt.Sprintf(`{"schema":"chainvet/report/v1","p":%q,"v":%q,"e":%q,"n":%d}`, project, version, env, len(cs))
	return store.Upload{
		Project: project, Version: version, Env: env, Received: at, Format: store.FormatReport,
		Digest: fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(body))), Body: []byte(body), Components: cs,
	}
}

func mustAdd(t *testing.T, s store.Store, u store.Upload) int64 {
	t.Helper()
	id, created, err := s.AddReport(context.Background(), u)
	if err != nil || !created {
		t.Fatalf("AddReport(%s %s %s) = %d, %v, %v; want created", u.Project, u.Version, u.Env, id, created, err)
	}
	return id
}

func testProjects(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	if _, err := s.Project(ctx, "web"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing project: err %v, want ErrNotFound", err)
	}
	web := store.Project{Name: "web", Owners: []string{"team-web"}, Tier: "1", Tags: []string{"pci"}}
	api := store.Project{Name: "api", Owners: []string{}, Tags: []string{}}
	for _, p := range []store.Project{web, api, {Name: "web", Owners: []string{"team-web", "sre"}, Tier: "2", Tags: nil}} {
		if err := s.PutProject(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	web = store.Project{Name: "web", Owners: []string{"team-web", "sre"}, Tier: "2", Tags: []string{}}
	got, err := s.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]store.Project{api, web}, got); d != "" {
		t.Errorf("Projects (-want +got):\n%s", d)
	}
	// A report for a project keeps the project's metadata.
	mustAdd(t, s, upload("web", "1.0", "prod", t0))
	if p, err := s.Project(ctx, "web"); err != nil || cmp.Diff(web, p) != "" {
		t.Errorf("after upload: %+v, %v; want %+v", p, err, web)
	}
	// One that carries metadata replaces it, even when the report is a
	// repeat.
	u := upload("web", "1.0", "prod", t0)
	u.Meta = &store.Project{Owners: []string{"team-ml"}, Tier: "3", Tags: []string{"gpu"}}
	if _, _, err := s.AddReport(ctx, u); err != nil {
		t.Fatal(err)
	}
	want := store.Project{Name: "web", Owners: []string{"team-ml"}, Tier: "3", Tags: []string{"gpu"}}
	if p, err := s.Project(ctx, "web"); err != nil || cmp.Diff(want, p) != "" {
		t.Errorf("after upload with metadata: %+v, %v; want %+v", p, err, want)
	}
}

func testIdempotent(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	u := upload("web", "1.0", "prod", t0, comp("torch", "2.5.1"))
	id := mustAdd(t, s, u)
	again := u
	again.Received = t0.Add(time.Hour)
	id2, created, err := s.AddReport(ctx, again)
	if err != nil || created || id2 != id {
		t.Fatalf("same upload again = %d, %v, %v; want %d, false", id2, created, err, id)
	}
	// The same report promoted to another environment is a new deployment.
	staging := u
	staging.Env = "staging"
	if id3 := mustAdd(t, s, staging); id3 == id {
		t.Fatal("another environment got the same report id")
	}
	got, err := s.FindComponents(ctx, store.ComponentQuery{Name: "torch", History: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("components stored %d times, want 2 (prod, staging): %+v", len(got), got)
	}
}

func testHistory(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	var ids []int64
	for i, v := range []string{"1.0", "1.1", "1.2"} {
		ids = append(ids, mustAdd(t, s, upload("web", v, "prod", t0.Add(time.Duration(i)*time.Hour), comp("torch", v))))
	}
	got, err := s.Reports(ctx, "web", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[1] {
		t.Fatalf("Reports(limit 2) = %+v; want ids %d, %d", got, ids[2], ids[1])
	}
	want := store.ReportInfo{ID: ids[2], Project: "web", Version: "1.2", Env: "prod", Digest: got[0].Digest,
		Format: store.FormatReport, Received: t0.Add(2 * time.Hour), Components: 1}
	if d := cmp.Diff(want, got[0]); d != "" {
		t.Errorf("report info (-want +got):\n%s", d)
	}
	body, err := s.ReportBody(ctx, ids[0])
	if err != nil || string(body) != string(upload("web", "1.0", "prod", t0, comp("torch", "1.0")).Body) {
		t.Errorf("ReportBody = %q, %v", body, err)
	}
	if _, err := s.ReportBody(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing body: err %v, want ErrNotFound", err)
	}
}

func testLatest(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	newer := mustAdd(t, s, upload("web", "2.0", "prod", t0.Add(time.Hour), comp("torch", "2.0")))
	mustAdd(t, s, upload("web", "1.0", "prod", t0, comp("torch", "1.0"))) // arrives late, is older
	ms, err := s.FindComponents(ctx, store.ComponentQuery{Name: "torch"})
	if err != nil || len(ms) != 1 || ms[0].ReportID != newer {
		t.Errorf("who runs torch after a late push = %+v, %v; want the newer report's only", ms, err)
	}
	staging := mustAdd(t, s, upload("web", "1.0", "staging", t0))
	got, err := s.Deployments(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Env != "prod" || got[0].ID != newer || got[1].Env != "staging" || got[1].ID != staging {
		t.Errorf("Deployments = %+v; want prod %d, staging %d", got, newer, staging)
	}
}

func testFind(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	if err := s.PutProject(ctx, store.Project{Name: "api", Owners: []string{"team-api"}, Tier: "1"}); err != nil {
		t.Fatal(err)
	}
	model := inventory.Component{ID: "m", Kind: inventory.KindModel, Name: "bert.bin",
		Digests: []inventory.Digest{{Algorithm: "sha256", Value: "ab12"}}, Locations: []inventory.Location{{Path: "models/bert.bin"}}}
	mustAdd(t, s, upload("api", "1.0", "prod", t0, comp("torch", "2.4.0"), comp("numpy", "2.0.0")))
	mustAdd(t, s, upload("api", "1.1", "prod", t0.Add(time.Hour), comp("torch", "2.5.1"), model))
	// torch-x sorts between pkg:pypi/torch and pkg:pypi/torch@…; a
	// versionless purl is every version of it.
	unversioned := inventory.Component{ID: "u", Kind: inventory.KindPackage, Name: "torch", PURL: "pkg:pypi/torch",
		Locations: []inventory.Location{{Path: "setup.py"}}}
	mustAdd(t, s, upload("web", "3.0", "prod", t0, comp("torch", "2.5.1"), comp("torchvision", "0.20.0"), comp("torch-x", "1.0"), unversioned))
	type row struct{ Project, Env, Version, Kind, Name, CVersion, Path string }
	tests := []struct {
		name string
		q    store.ComponentQuery
		want []row
	}{
		{"purl_exact", store.ComponentQuery{PURL: "pkg:pypi/torch@2.5.1"}, []row{
			{"api", "prod", "1.1", "package", "torch", "2.5.1", "requirements.txt"},
			{"web", "prod", "3.0", "package", "torch", "2.5.1", "requirements.txt"}}},
		{"purl_any_version_not_prefix_name", store.ComponentQuery{PURL: "pkg:pypi/torch"}, []row{
			{"api", "prod", "1.1", "package", "torch", "2.5.1", "requirements.txt"},
			{"web", "prod", "3.0", "package", "torch", "", "setup.py"},
			{"web", "prod", "3.0", "package", "torch", "2.5.1", "requirements.txt"}}},
		{"old_version_not_deployed", store.ComponentQuery{PURL: "pkg:pypi/torch@2.4.0"}, nil},
		{"old_version_in_history", store.ComponentQuery{PURL: "pkg:pypi/torch@2.4.0", History: true}, []row{
			{"api", "prod", "1.0", "package", "torch", "2.4.0", "requirements.txt"}}},
		{"name_and_version", store.ComponentQuery{Name: "torchvision", Version: "0.20.0"}, []row{
			{"web", "prod", "3.0", "package", "torchvision", "0.20.0", "requirements.txt"}}},
		{"name_wrong_version", store.ComponentQuery{Name: "torchvision", Version: "0.19.0"}, nil},
		{"model_by_name", store.ComponentQuery{Name: "bert.bin"}, []row{
			{"api", "prod", "1.1", "model", "bert.bin", "", "models/bert.bin"}}},
		{"one_project", store.ComponentQuery{Name: "torch", Project: "web"}, []row{
			{"web", "prod", "3.0", "package", "torch", "", "setup.py"},
			{"web", "prod", "3.0", "package", "torch", "2.5.1", "requirements.txt"}}},
		{"limit", store.ComponentQuery{Name: "torch", Limit: 1}, []row{
			{"api", "prod", "1.1", "package", "torch", "2.5.1", "requirements.txt"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.FindComponents(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var rows []row
			for _, m := range got {
				rows = append(rows, row{m.Project, m.Env, m.Version, m.Kind, m.Name, m.CVersion, m.Path})
			}
			if d := cmp.Diff(tt.want, rows); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	got, err := s.FindComponents(ctx, store.ComponentQuery{Name: "bert.bin"})
	if err != nil || len(got) != 1 || cmp.Diff([]string{"team-api"}, got[0].Owners) != "" ||
		got[0].Tier != "1" || cmp.Diff([]string{"sha256:ab12"}, got[0].Digests) != "" {
		t.Errorf("match details = %+v, %v", got, err)
	}
	if _, err := s.FindComponents(ctx, store.ComponentQuery{}); err == nil {
		t.Error("empty query: no error")
	}
}

func testFailedInsert(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	// More than one batch of good rows, then one the schema refuses (a
	// component without a kind): the whole upload must roll back.
	var cs []inventory.Component
	for i := range 600 {
		cs = append(cs, comp(fmt.Sprintf("pkg%d", i), "1.0"))
	}
	cs = append(cs, inventory.Component{Name: "bad"})
	if _, _, err := s.AddReport(ctx, upload("web", "1.0", "prod", t0, cs...)); err == nil {
		t.Fatal("AddReport of a refused row succeeded")
	}
	if ps, err := s.Projects(ctx); err != nil || len(ps) != 0 {
		t.Errorf("projects after failed upload: %+v, %v", ps, err)
	}
	if rs, err := s.Reports(ctx, "web", 10); err != nil || len(rs) != 0 {
		t.Errorf("reports after failed upload: %+v, %v", rs, err)
	}
	if ms, err := s.FindComponents(ctx, store.ComponentQuery{Name: "pkg1", History: true}); err != nil || len(ms) != 0 {
		t.Errorf("components after failed upload: %+v, %v", ms, err)
	}
	// And the same upload, fixed, then goes in as new.
	mustAdd(t, s, upload("web", "1.0", "prod", t0, cs[:600]...))
}

func testTokens(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	tok := store.Token{Hash: "aa", Name: "ci", Scope: store.ScopePush, Project: "web", Created: t0}
	if err := s.AddToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.Token(ctx, "aa")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(tok, got); d != "" {
		t.Errorf("Token (-want +got):\n%s", d)
	}
	if _, err := s.Token(ctx, "bb"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown token: err %v, want ErrNotFound", err)
	}
	if err := s.AddToken(ctx, tok); err == nil {
		t.Error("duplicate token hash accepted")
	}
	if err := s.AddToken(ctx, store.Token{Hash: "cc", Scope: "root", Created: t0}); err == nil {
		t.Error("unknown scope accepted")
	}
}

func testBootstrap(t *testing.T, _ string, s store.Store) {
	ctx := context.Background()
	for i, want := range []bool{true, false} {
		tok := store.Token{Hash: fmt.Sprint("h", i), Name: "bootstrap", Scope: store.ScopeAdmin, Created: t0}
		got, err := s.Bootstrap(ctx, tok)
		if err != nil || got != want {
			t.Fatalf("Bootstrap #%d = %v, %v; want %v", i+1, got, err, want)
		}
	}
	if _, err := s.Token(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second bootstrap stored its token: %v", err)
	}
}

// testReplicas uploads the same report from two stores on one database
// at once, as two server replicas behind a load balancer would.
func testReplicas(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	u := upload("web", "1.0", "prod", t0, comp("torch", "2.5.1"))
	const n = 8
	ids := make([]int64, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() { ids[i], created[i], errs[i] = s.AddReport(ctx, u) })
	}
	wg.Wait()
	nc := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("upload %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("upload %d got id %d, upload 0 got %d", i, ids[i], ids[0])
		}
		if created[i] {
			nc++
		}
	}
	if nc != 1 {
		t.Errorf("%d uploads created the report, want 1", nc)
	}
	ms, err := a.FindComponents(ctx, store.ComponentQuery{Name: "torch", History: true})
	if err != nil || len(ms) != 1 {
		t.Errorf("components = %+v, %v; want one row", ms, err)
	}
}
