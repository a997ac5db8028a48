package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/chainvet/chainvet/internal/inventory"
)

// pushMeta says what a pushed report is of.
type pushMeta struct {
	Project string
	Version string // the release: a tag or commit; may be empty
	Env     string // the environment (deployment); the server's default when empty
	// Owners, Tier and Tags, when any is set, replace the project's.
	Owners []string
	Tier   string
	Tags   []string
}

// pushFlags are the --push flags of scan and bom.
type pushFlags struct {
	url string
	pushMeta
}

// addPushFlags registers the --push flags on fl.
func addPushFlags(fl *pflag.FlagSet, p *pushFlags) {
	fl.StringVar(&p.url, "push", "", "upload the report to the chainvet server at this URL (token in $CHAINVET_TOKEN)")
	fl.StringVar(&p.Project, "project", "", "project the pushed report is of (default: the name of the first PATH)")
	fl.StringVar(&p.Version, "release", "", "release (tag, commit) the pushed report is of")
	fl.StringVar(&p.Env, "env", "", "environment (deployment) the pushed report is of (default: the server's \"default\")")
	fl.StringArrayVar(&p.Owners, "owner", nil, "owner of the project, for the server (repeatable)")
	fl.StringVar(&p.Tier, "tier", "", "criticality tier of the project, for the server")
	fl.StringArrayVar(&p.Tags, "tag", nil, "tag of the project, for the server (repeatable)")
}

// push uploads rep when --push was given; the project defaults to the
// base name of the first PATH.
func (p *pushFlags) push(ctx context.Context, rep *inventory.Report, args []string, stderr io.Writer) error {
	if p.url == "" {
		return nil
	}
	meta := p.pushMeta
	if meta.Project == "" && len(args) > 0 {
		if abs, err := filepath.Abs(args[0]); err == nil {
			meta.Project = filepath.Base(abs)
		}
	}
	token := os.Getenv("CHAINVET_TOKEN")
	if token == "" {
		return hinted{errors.New("--push needs a token"), "set CHAINVET_TOKEN to a push token of the server"}
	}
	res, err := pushReport(ctx, p.url, token, rep, meta)
	if err != nil {
		return err
	}
	state := "stored"
	if !res.Created {
		state = "already stored"
	}
	fmt.Fprintf(stderr, "chainvet: pushed to %s: report %d of %s (%s), %d components, %s\n",
		p.url, res.ID, res.Project, res.Env, res.Components, state)
	return nil
}

// pushResult is the server's answer to an upload.
type pushResult struct {
	ID         int64  `json:"id"`
	Project    string `json:"project"`
	Env        string `json:"env"`
	Digest     string `json:"digest"`
	Components int    `json:"components"`
	Created    bool   `json:"created"`
}

// pushAttempts and pushBackoff retry an upload the server may not have
// stored: uploads are idempotent, so sending one twice is harmless.
const (
	pushAttempts = 3
	pushBackoff  = 2 * time.Second
	pushTimeout  = 5 * time.Minute
)

// pushReport uploads r to the chainvet server at base (http://host:port)
// for meta's project, release and environment, retrying network errors
// and 5xx answers.
func pushReport(ctx context.Context, base, token string, r *inventory.Report, meta pushMeta) (pushResult, error) {
	return pushWith(ctx, &http.Client{Timeout: pushTimeout}, pushBackoff, base, token, r, meta)
}

func pushWith(ctx context.Context, client *http.Client, backoff time.Duration, base, token string, r *inventory.Report, meta pushMeta) (pushResult, error) {
	if meta.Project == "" {
		return pushResult{}, hinted{errors.New("push: no project"), "give --project NAME"}
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return pushResult{}, hinted{fmt.Errorf("push: %q is not a server URL", base), "give --push http(s)://HOST:PORT"}
	}
	u = u.JoinPath("api/v1/projects", meta.Project, "reports")
	q := url.Values{}
	if meta.Version != "" {
		q.Set("version", meta.Version)
	}
	if meta.Env != "" {
		q.Set("env", meta.Env)
	}
	for _, o := range meta.Owners {
		q.Add("owner", o)
	}
	if meta.Tier != "" {
		q.Set("tier", meta.Tier)
	}
	for _, t := range meta.Tags {
		q.Add("tag", t)
	}
	u.RawQuery = q.Encode()
	rep := *r
	rep.Schema = inventory.Schema
	body, err := json.Marshal(&rep)
	if err != nil {
		return pushResult{}, fmt.Errorf("push: %w", err)
	}
	var last error
	for attempt := range pushAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return pushResult{}, ctx.Err()
			case <-time.After(backoff << (attempt - 1)):
			}
		}
		res, retry, err := pushOnce(ctx, client, u.String(), token, body)
		if err == nil || !retry {
			return res, err
		}
		last = err
	}
	return pushResult{}, last
}

// pushOnce makes one upload and says whether a failure is worth retrying.
func pushOnce(ctx context.Context, client *http.Client, target, token string, body []byte) (pushResult, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return pushResult{}, false, fmt.Errorf("push: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return pushResult{}, ctx.Err() == nil, fmt.Errorf("push: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return pushResult{}, true, fmt.Errorf("push: reading the answer: %w", err)
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
		var res pushResult
		if err := json.Unmarshal(b, &res); err != nil {
			return pushResult{}, false, fmt.Errorf("push: the server's answer: %w", err)
		}
		return res, false, nil
	}
	var e struct{ Error string }
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(b[:min(len(b), 200)]))
	}
	err = fmt.Errorf("push: %s: %s", resp.Status, e.Error)
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return pushResult{}, false, hinted{err, "set CHAINVET_TOKEN to a token the server issued"}
	case http.StatusForbidden:
		return pushResult{}, false, hinted{err, "use a push token for this project"}
	case http.StatusRequestEntityTooLarge:
		return pushResult{}, false, hinted{err, "raise the server's --max-upload"}
	}
	return pushResult{}, resp.StatusCode >= 500, err
}
