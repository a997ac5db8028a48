package slsa

import (
	"errors"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var github = map[string]string{
	"GITHUB_ACTIONS":             "true",
	"GITHUB_SERVER_URL":          "https://github.com",
	"GITHUB_REPOSITORY":          "acme/models",
	"GITHUB_SHA":                 "0123456789abcdef0123456789abcdef01234567",
	"GITHUB_REF":                 "refs/heads/main",
	"GITHUB_WORKFLOW_REF":        "acme/models/.github/workflows/release.yml@refs/heads/main",
	"GITHUB_RUN_ID":              "4242",
	"GITHUB_RUN_ATTEMPT":         "2",
	"GITHUB_EVENT_NAME":          "push",
	"GITHUB_REPOSITORY_ID":       "77",
	"GITHUB_REPOSITORY_OWNER_ID": "88",
	"RUNNER_ENVIRONMENT":         "github-hosted",
}

var gitlab = map[string]string{
	"GITLAB_CI":          "true",
	"CI_SERVER_URL":      "https://gitlab.example.com",
	"CI_PROJECT_PATH":    "acme/models",
	"CI_PROJECT_URL":     "https://gitlab.example.com/acme/models",
	"CI_PROJECT_ID":      "9",
	"CI_COMMIT_SHA":      "fedcba9876543210fedcba9876543210fedcba98",
	"CI_COMMIT_REF_NAME": "v1.2.0",
	"CI_COMMIT_TAG":      "v1.2.0",
	"CI_CONFIG_PATH":     ".gitlab-ci.yml",
	"CI_PIPELINE_SOURCE": "push",
	"CI_PIPELINE_ID":     "1001",
	"CI_JOB_ID":          "5005",
	"CI_JOB_URL":         "https://gitlab.example.com/acme/models/-/jobs/5005",
	"CI_RUNNER_ID":       "12",
	"CI_RUNNER_VERSION":  "17.5.0",
}

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"github", github, `{"buildDefinition":{"buildType":"https://actions.github.io/buildtypes/workflow/v1",` +
			`"externalParameters":{"workflow":{"path":".github/workflows/release.yml","ref":"refs/heads/main","repository":"https://github.com/acme/models"}},` +
			`"internalParameters":{"github":{"event_name":"push","repository_id":"77","repository_owner_id":"88","runner_environment":"github-hosted"}},` +
			`"resolvedDependencies":[{"uri":"git+https://github.com/acme/models@refs/heads/main","digest":{"gitCommit":"0123456789abcdef0123456789abcdef01234567"}}]},` +
			`"runDetails":{"builder":{"id":"https://github.com/actions/runner/github-hosted"},` +
			`"metadata":{"invocationId":"https://github.com/acme/models/actions/runs/4242/attempts/2"}}}`},
		{"gitlab_tag", gitlab, `{"buildDefinition":{"buildType":"https://chainvet.dev/buildtypes/gitlab-ci/v1",` +
			`"externalParameters":{"pipeline":{"path":".gitlab-ci.yml","ref":"refs/tags/v1.2.0","repository":"https://gitlab.example.com/acme/models"},"source":"push"},` +
			`"internalParameters":{"gitlab":{"job_id":"5005","pipeline_id":"1001","project_id":"9"}},` +
			`"resolvedDependencies":[{"uri":"git+https://gitlab.example.com/acme/models@refs/tags/v1.2.0","digest":{"gitCommit":"fedcba9876543210fedcba9876543210fedcba98"}}]},` +
			`"runDetails":{"builder":{"id":"https://gitlab.example.com/acme/models/-/runners/12","version":{"gitlab-runner":"17.5.0"}},` +
			`"metadata":{"invocationId":"https://gitlab.example.com/acme/models/-/jobs/5005"}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := FromEnv(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			b, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", b, tc.want)
			}
			if _, err := Parse(b); err != nil {
				t.Fatalf("Parse of own output: %v", err)
			}
		})
	}
}

func TestFromEnvErrors(t *testing.T) {
	without := func(m map[string]string, drop ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for _, d := range drop {
			delete(out, d)
		}
		return out
	}
	with := func(m map[string]string, k, v string) map[string]string { o := without(m); o[k] = v; return o }
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no_ci", map[string]string{"CI": "true"}, "no GitHub Actions or GitLab CI"},
		{"github_missing", without(github, "GITHUB_SHA", "GITHUB_RUN_ID"), "GitHub Actions environment lacks GITHUB_SHA, GITHUB_RUN_ID"},
		{"github_foreign_workflow", with(github, "GITHUB_WORKFLOW_REF", "other/repo/.github/workflows/x.yml@refs/heads/main"), "is not acme/models/PATH@REF"},
		{"gitlab_missing", without(gitlab, "CI_JOB_URL"), "GitLab CI environment lacks CI_JOB_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromEnv(env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := FromEnv(env(nil)); !errors.Is(err, ErrNoCI) {
		t.Fatalf("err = %v, want ErrNoCI", err)
	}
}

func TestSelfHostedDefault(t *testing.T) {
	m := map[string]string{}
	for k, v := range github {
		m[k] = v
	}
	delete(m, "RUNNER_ENVIRONMENT")
	p, err := FromEnv(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if p.RunDetails.Builder.ID != "https://github.com/actions/runner/self-hosted" {
		t.Fatalf("builder id = %q", p.RunDetails.Builder.ID)
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{`{}`, `{"buildDefinition":{"buildType":"x"},"runDetails":{"builder":{"id":"y"}}}`, `[`, `{"buildDefinition":{"buildType":"x","externalParameters":{}},"runDetails":{}}`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%s) accepted it", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"buildDefinition":{"buildType":"x","externalParameters":{}},"runDetails":{"builder":{"id":"y"}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err == nil && p.Validate() != nil {
			t.Fatal("Parse returned an invalid provenance")
		}
	})
}
