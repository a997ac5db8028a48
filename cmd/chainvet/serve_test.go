package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/chainvet/chainvet/internal/server/store"
)

// syncBuffer is a bytes.Buffer safe to write from the server goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs serve on a free port and returns its URL and a function
// that stops it and returns what run returned.
func startServe(t *testing.T, f *serveFlags, stderr *syncBuffer) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.run(ctx, ln, stderr) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

// waitHealthy polls /healthz until the server answers; the listener is
// open from the start, so this only waits for the store to be ready.
func waitHealthy(t *testing.T, base string) {
	t.Helper()
	for range 1000 {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatal("server never became healthy")
}

func TestServeBootstrapPushQuery(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin.token")
	f := &serveFlags{db: "file:" + filepath.Join(dir, "server.db"), tokenFile: tokenFile, maxUpload: 1 << 20}
	var stderr syncBuffer
	base, stop := startServe(t, f, &stderr)
	waitHealthy(t, base)

	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(tokenFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, %v; want 0600", fi.Mode(), err)
	}
	token := strings.TrimSpace(string(b))
	if strings.Contains(stderr.String(), token) {
		t.Error("the token written to a file was also printed")
	}

	rep := &inventory.Report{Components: []inventory.Component{{ID: "t", Kind: inventory.KindPackage,
		Name: "torch", Version: "2.5.1", PURL: "pkg:pypi/torch@2.5.1"}}}
	meta := pushMeta{Project: "web", Version: "1.0", Env: "prod", Owners: []string{"team-web"}, Tier: "1"}
	ctx := context.Background()
	res, err := pushReport(ctx, base, token, rep, meta)
	if err != nil || !res.Created || res.Components != 1 || res.Env != "prod" {
		t.Fatalf("push = %+v, %v", res, err)
	}
	again, err := pushReport(ctx, base+"/", token, rep, meta)
	if err != nil || again.Created || again.ID != res.ID {
		t.Errorf("second push = %+v, %v; want the same id, not created", again, err)
	}
	if _, err := pushReport(ctx, base, "cvt_wrong", rep, meta); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("push with a wrong token: %v", err)
	}

	req, _ := http.NewRequest("GET", base+"/api/v1/components?purl=pkg:pypi/torch", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ans struct {
		Matches []struct {
			Project, Env, Version string
			Owners                []string
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if err != nil || len(ans.Matches) != 1 || ans.Matches[0].Project != "web" || ans.Matches[0].Version != "1.0" ||
		len(ans.Matches[0].Owners) != 1 {
		t.Errorf("who runs torch: %+v, %v", ans, err)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}

	// A restart on the same database makes no new token.
	var stderr2 syncBuffer
	base, stop = startServe(t, f, &stderr2)
	waitHealthy(t, base)
	if err := stop(); err != nil {
		t.Fatalf("restarted serve returned %v", err)
	}
	if strings.Contains(stderr2.String(), "admin token") {
		t.Errorf("restart made a token: %s", stderr2.String())
	}
}

func TestServePrintsTokenWithoutFile(t *testing.T) {
	f := &serveFlags{db: "file:" + filepath.Join(t.TempDir(), "server.db")}
	var stderr syncBuffer
	base, stop := startServe(t, f, &stderr)
	waitHealthy(t, base)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "admin token (shown once") || !strings.Contains(stderr.String(), "cvt_") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

func TestServeBadDB(t *testing.T) {
	var out, errb bytes.Buffer
	c := newServe(&out, &errb)
	c.SetArgs([]string{"--addr", "127.0.0.1:0", "--db", "mysql://x"})
	var h hinted
	if err := c.ExecuteContext(context.Background()); !errors.As(err, &h) || !strings.Contains(h.hint, "--db") {
		t.Errorf("err %v; want a hint about --db", err)
	}
}

func TestPushRetries(t *testing.T) {
	rep := &inventory.Report{}
	meta := pushMeta{Project: "web"}
	tests := []struct {
		name      string
		statuses  []int
		wantCalls int32
		wantErr   string
	}{
		{"ok_first", []int{201}, 1, ""},
		{"retry_5xx_then_ok", []int{503, 500, 200}, 3, ""},
		{"give_up_after_three", []int{503, 503, 503, 503}, 3, "503"},
		{"no_retry_on_400", []int{400, 201}, 1, "400"},
		{"no_retry_on_403", []int{403, 201}, 1, "403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				if r.URL.Path != "/api/v1/projects/web/reports" || r.Header.Get("Authorization") != "Bearer tok" {
					t.Errorf("request %s %s", r.URL, r.Header.Get("Authorization"))
				}
				w.WriteHeader(tt.statuses[n-1])
				w.Write([]byte(`{"id":7,"project":"web","error":"nope"}`))
			}))
			defer srv.Close()
			res, err := pushWith(context.Background(), srv.Client(), 0, srv.URL, "tok", rep, meta)
			if calls.Load() != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls.Load(), tt.wantCalls)
			}
			if tt.wantErr == "" {
				if err != nil || res.ID != 7 {
					t.Errorf("= %+v, %v", res, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
	var h hinted
	if _, err := pushWith(context.Background(), http.DefaultClient, 0, "ftp://x", "tok", rep, meta); !errors.As(err, &h) {
		t.Errorf("bad URL: %v, want a hinted error", err)
	}
}

// TestServeChild is the server that TestKillDuringIngest kills; it runs
// only as that test's child process.
func TestServeChild(t *testing.T) {
	addr := os.Getenv("CHAINVET_TEST_SERVE_ADDR")
	if addr == "" {
		t.Skip("runs as the child of TestKillDuringIngest")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f := &serveFlags{db: os.Getenv("CHAINVET_TEST_SERVE_DB"), tokenFile: os.Getenv("CHAINVET_TEST_SERVE_TOKEN"), maxUpload: 64 << 20}
	if err := f.run(context.Background(), ln, os.Stderr); err != nil {
		t.Fatal(err)
	}
}

// TestKillDuringIngest kills the server with SIGKILL while uploads are in
// flight, then checks that every upload it acknowledged is stored whole,
// and that no upload is stored in part.
func TestKillDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	db := "file:" + filepath.Join(dir, "server.db")
	tokenFile := filepath.Join(dir, "admin.token")
	cmd := exec.Command(exe, "-test.run=^TestServeChild$")
	cmd.Env = append(os.Environ(), "TMPDIR="+dir, "CHAINVET_TEST_SERVE_ADDR="+addr, "CHAINVET_TEST_SERVE_DB="+db, "CHAINVET_TEST_SERVE_TOKEN="+tokenFile)
	var childErr syncBuffer
	cmd.Stderr = &childErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	var token []byte
	for range 100000 {
		if token, err = os.ReadFile(tokenFile); err == nil && len(token) > 0 {
			break
		}
		runtime.Gosched()
	}
	if len(token) == 0 {
		t.Fatalf("no token from the server: %s", childErr.String())
	}
	waitHealthy(t, base)

	const (
		writers = 4
		perRep  = 500
	)
	type ack struct{ project string }
	acks := make(chan ack, 1000)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{}
	for w := range writers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				project := fmt.Sprintf("w%d-r%d", w, i)
				cs := make([]inventory.Component, perRep)
				for j := range cs {
					cs[j] = inventory.Component{ID: fmt.Sprint(j), Kind: inventory.KindPackage, Name: fmt.Sprintf("%s-c%d", project, j)}
				}
				_, _, err := pushOnce(ctx, client, base+"/api/v1/projects/"+project+"/reports", strings.TrimSpace(string(token)),
					mustJSON(t, &inventory.Report{Schema: inventory.Schema, Components: cs}))
				if err != nil {
					return // the server is gone
				}
				acks <- ack{project}
			}
		})
	}
	// Kill once a few uploads were acknowledged, while others are in flight.
	var acked []string
	for a := range acks {
		acked = append(acked, a.project)
		if len(acked) == 8 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	cancel()
	wg.Wait()
	close(acks)
	for a := range acks {
		acked = append(acked, a.project)
	}

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps, err := st.Projects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, p := range ps {
		stored[p.Name] = true
		// All or nothing: the first and the last component are both there.
		for _, j := range []int{0, perRep - 1} {
			ms, err := st.FindComponents(context.Background(), store.ComponentQuery{Name: fmt.Sprintf("%s-c%d", p.Name, j)})
			if err != nil || len(ms) != 1 {
				t.Errorf("project %s stored without component %d: %v", p.Name, j, err)
			}
		}
	}
	for _, p := range acked {
		if !stored[p] {
			t.Errorf("acknowledged upload %s lost", p)
		}
	}
	t.Logf("%d uploads acknowledged, %d stored", len(acked), len(ps))
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Error(err)
	}
	return b
}
