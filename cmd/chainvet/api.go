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
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Limits of the commands that manage a chainvet server (token, db push).
const (
	// apiTimeout bounds one token request.
	apiTimeout = time.Minute
	// maxAPIAnswer bounds an answer read: a list of 100,000 tokens of a
	// few hundred bytes each, with room to spare.
	maxAPIAnswer = 64 << 20
)

// serverFlags are the flags that name a chainvet server and the token to
// use with it.
type serverFlags struct {
	server, token string
}

// add registers --server and --token on fl.
func (f *serverFlags) add(fl *pflag.FlagSet, scope string) {
	fl.StringVar(&f.server, "server", "", "URL of the chainvet server, http(s)://HOST:PORT")
	fl.StringVar(&f.token, "token", "", "API token, "+scope+" (default $CHAINVET_TOKEN)")
}

// apiClient makes the requests of one command to a chainvet server's API.
type apiClient struct {
	cmd   string // the command, such as "token create", for messages
	base  *url.URL
	token string
	http  *http.Client
}

// client checks f and returns a client for the command cmd, whose
// requests each take at most timeout.
func (f serverFlags) client(cmd, scope string, timeout time.Duration) (*apiClient, error) {
	token := f.token
	if token == "" {
		token = os.Getenv("CHAINVET_TOKEN")
	}
	if token == "" {
		return nil, hinted{fmt.Errorf("%s needs a token", cmd), "set CHAINVET_TOKEN or pass --token, " + scope + " of the server"}
	}
	u, err := url.Parse(strings.TrimRight(f.server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, hinted{fmt.Errorf("%s: %q is not a server URL", cmd, f.server), "give --server http(s)://HOST:PORT"}
	}
	return &apiClient{cmd: cmd, base: u, token: token, http: &http.Client{Timeout: timeout}}, nil
}

// apiError is an answer of the server other than 2xx.
type apiError struct {
	Status int    // the HTTP status code
	Text   string // the status line, "404 Not Found"
	Msg    string // the server's message, made printable
}

func (e *apiError) Error() string { return e.Text + ": " + e.Msg }

// do sends a request with body (nil for none; size bytes, or -1 when
// unknown) to the API path and returns the answer's body, at most
// maxAPIAnswer bytes. An answer other than 2xx is an *apiError.
func (c *apiClient) do(ctx context.Context, method, path string, body io.Reader, size int64, contentType string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base.JoinPath(path).String(), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, hinted{err, "check --server, and that the server is running"}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if len(b) > maxAPIAnswer {
		return nil, fmt.Errorf("answer larger than %d bytes", maxAPIAnswer)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b[:min(len(b), 200)]))
		}
		return nil, &apiError{Status: resp.StatusCode, Text: resp.Status, Msg: printable(e.Error)}
	}
	return b, nil
}

// apiHint gives the advice for an error of do, with forbidden the advice
// for a 403; it returns "" when there is none.
func apiHint(err error, forbidden string) string {
	var ae *apiError
	if !errors.As(err, &ae) {
		return ""
	}
	switch ae.Status {
	case http.StatusUnauthorized:
		return "set CHAINVET_TOKEN or --token to a live admin token of the server"
	case http.StatusForbidden:
		return forbidden
	}
	return ""
}

// fail wraps err, an error of do about subject (may be empty), with the
// command's name and advice.
func (c *apiClient) fail(err error, subject, forbidden string) error {
	prefix := c.cmd
	if subject != "" {
		prefix += " " + subject
	}
	err = fmt.Errorf("%s: %w", prefix, err)
	var h hinted
	if errors.As(err, &h) {
		return hinted{err, h.hint}
	}
	if s := apiHint(err, forbidden); s != "" {
		return hinted{err, s}
	}
	return err
}

// isStatus reports whether err is an answer with one of these statuses.
func isStatus(err error, codes ...int) bool {
	var ae *apiError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.Status == c {
			return true
		}
	}
	return false
}

// writeIndented writes the JSON b indented, as the server sent it.
func writeIndented(w io.Writer, b []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return fmt.Errorf("the server's answer: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
