package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainvet/chainvet/internal/server"
	"github.com/chainvet/chainvet/internal/server/store"
)

// shutdownGrace is how long serve lets requests in flight finish after an
// interrupt: an upload in progress commits or rolls back, never half.
const shutdownGrace = 30 * time.Second

type serveFlags struct {
	addr      string
	db        string
	tokenFile string
	maxUpload int64
	// alerts runs the webhook delivery worker in this replica.
	alerts bool
	// alertAttempts is how many attempts a webhook delivery gets.
	alertAttempts int
	// feeds are the advisory URLs polled, every feedEvery.
	feeds     []string
	feedEvery time.Duration
}

func newServe(stdout, stderr io.Writer) *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the fleet server: store pushed reports, answer who runs what",
		Long: `serve runs chainvet's fleet server: an HTTP API (docs/openapi.yaml) that
stores the reports projects push with 'scan --push' or 'bom --push' (or any
CycloneDX JSON BOM), and answers "who runs X?" across all of them.

The database is SQLite in the user data directory unless --db names another
file (file:PATH) or a PostgreSQL server (postgres://…), which several
replicas may share. Alert rules (POST /api/v1/alert-rules) send webhooks
from every replica started with --alerts, the default; the database
coordinates them, so each delivery is sent by one. Every replica also
finishes matching a stopped replica left undone. On first start, with no tokens yet, serve makes an admin
token and writes it to --bootstrap-token-file (mode 0600), or prints it once
on standard error.`,
		Example: `  chainvet serve
  chainvet serve --addr 0.0.0.0:8080 --db postgres://chainvet@db/chainvet --bootstrap-token-file admin.token`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				return hinted{fmt.Errorf("listen: %w", err), "choose another --addr HOST:PORT"}
			}
			return f.run(cmd.Context(), ln, stderr)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on, HOST:PORT")
	fl.StringVar(&f.db, "db", "", "database: file:PATH (SQLite) or postgres://… (default: file:<user data dir>/chainvet/server.db)")
	fl.StringVar(&f.tokenFile, "bootstrap-token-file", "", "write the first admin token to this file (mode 0600) instead of standard error")
	fl.Int64Var(&f.maxUpload, "max-upload", server.DefaultMaxUpload, "largest report accepted, in bytes")
	fl.BoolVar(&f.alerts, "alerts", true, "send alert webhooks from this replica (any number of replicas may)")
	fl.IntVar(&f.alertAttempts, "alert-attempts", 8, "attempts a webhook delivery gets before it is marked failed")
	fl.StringArrayVar(&f.feeds, "advisories-url", nil, "poll this OSV all.zip or record URL and import it when it changes (repeatable)")
	fl.DurationVar(&f.feedEvery, "advisories-every", time.Hour, "time between two polls of each --advisories-url")
	return c
}

// run serves on ln until ctx ends, then shuts down gracefully.
func (f *serveFlags) run(ctx context.Context, ln net.Listener, stderr io.Writer) error {
	defer ln.Close()
	dsn := f.db
	if dsn == "" {
		var err error
		if dsn, err = defaultServerDB(); err != nil {
			return hinted{err, "give --db file:PATH"}
		}
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return hinted{err, "check --db: file:PATH for SQLite, postgres://user@host/db for PostgreSQL"}
	}
	defer st.Close()
	secret, err := server.Bootstrap(ctx, st, time.Now())
	if err != nil {
		return err
	}
	if secret != "" {
		if err := showBootstrap(secret, f.tokenFile, stderr); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if f.alerts {
		w, err := server.NewWorker(st, server.WorkerOptions{MaxAttempts: f.alertAttempts, Log: log})
		if err != nil {
			return err
		}
		wctx, stop := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() { defer close(stopped); w.Run(wctx) }()
		// Deferred after st.Close, so run before it.
		defer func() { stop(); <-stopped }()
	}
	srv := server.New(st, server.Options{MaxUpload: f.maxUpload, Log: log})
	rm, err := server.NewRematcher(srv, server.RematcherOptions{Log: log})
	if err != nil {
		return err
	}
	rctx, stopRematch := context.WithCancel(ctx)
	rstopped := make(chan struct{})
	go func() { defer close(rstopped); rm.Run(rctx) }()
	defer func() { stopRematch(); <-rstopped }()
	if len(f.feeds) > 0 {
		p, err := server.NewFeedPoller(srv, server.FeedOptions{URLs: f.feeds, Every: f.feedEvery, Log: log})
		if err != nil {
			return hinted{err, "give --advisories-url an http or https URL"}
		}
		pctx, stop := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() { defer close(stopped); p.Run(pctx) }()
		defer func() { stop(); <-stopped }()
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stderr, "chainvet: serving on http://%s\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// showBootstrap hands the first admin token to the person starting the
// server: in a file only they can read, or once on standard error.
func showBootstrap(secret, file string, stderr io.Writer) error {
	if file == "" {
		fmt.Fprintf(stderr, "chainvet: admin token (shown once, store it now): %s\n", secret)
		fmt.Fprintln(stderr, "chainvet: make narrower tokens with POST /api/v1/tokens; push with CHAINVET_TOKEN=<token> chainvet scan --push URL")
		return nil
	}
	fh, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return hinted{fmt.Errorf("bootstrap token: %w", err), "give a --bootstrap-token-file that does not exist yet"}
	}
	if _, err := fmt.Fprintln(fh, secret); err != nil {
		fh.Close()
		return fmt.Errorf("bootstrap token: %w", err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("bootstrap token: %w", err)
	}
	fmt.Fprintf(stderr, "chainvet: admin token written to %s\n", file)
	return nil
}

// defaultServerDB is file:<user data dir>/chainvet/server.db, creating
// the directory.
func defaultServerDB() (string, error) {
	dir, err := userDataDir()
	if err != nil {
		return "", err
	}
	dir = filepath.Join(dir, "chainvet")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	return "file:" + filepath.Join(dir, "server.db"), nil
}

// userDataDir is where a user's programs keep data: $XDG_DATA_HOME or
// ~/.local/share on Unix, Application Support on macOS, %LocalAppData%
// on Windows.
func userDataDir() (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return d, nil
		}
		return "", errors.New("%LocalAppData% is not set")
	case "darwin", "ios":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support"), nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share"), nil
}
