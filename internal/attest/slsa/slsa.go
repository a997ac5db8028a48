// Package slsa writes SLSA v1 build provenance predicates from the
// environment a CI job runs in, and checks the shape of one read back.
//
// FromEnv knows two CI systems:
//
//   - GitHub Actions (GITHUB_ACTIONS=true): the predicate follows GitHub's
//     build type [GitHubBuildType]. External parameters name the workflow
//     (repository URL, ref, path within the repository); internal
//     parameters carry the event name, repository and owner ids and runner
//     environment; the resolved dependency is the source commit
//     (git+URL@ref, digest gitCommit); the builder id is the runner
//     environment's URL and the invocation id is the run attempt's URL.
//   - GitLab CI (GITLAB_CI=true): GitLab defines no build type for
//     provenance written by a job, so chainvet documents its own,
//     [GitLabBuildType]. External parameters name the pipeline definition
//     (project URL, ref, CI config path) and pipeline source; internal
//     parameters carry the project, pipeline and job ids; the resolved
//     dependency is the source commit; the builder id is the runner's URL
//     and the invocation id is the job's URL.
//
// A provenance written this way is as trustworthy as whoever signs it:
// pair it with a keyless signature, whose certificate the CI's identity
// token vouches for, and check that identity when verifying.
package slsa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// PredicateType is the in-toto predicate type of SLSA provenance v1.
const PredicateType = "https://slsa.dev/provenance/v1"

// Build types FromEnv writes.
const (
	GitHubBuildType = "https://actions.github.io/buildtypes/workflow/v1"
	GitLabBuildType = "https://chainvet.dev/buildtypes/gitlab-ci/v1"
)

// ErrNoCI is returned by FromEnv outside a CI system it knows.
var ErrNoCI = errors.New("slsa: no GitHub Actions or GitLab CI environment (GITHUB_ACTIONS or GITLAB_CI is not \"true\")")

// Provenance is a SLSA v1 provenance predicate.
type Provenance struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition is the input of a build: its template, parameters and
// the artifacts it read.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   map[string]any       `json:"externalParameters"`
	InternalParameters   map[string]any       `json:"internalParameters,omitempty"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
}

// ResourceDescriptor names an artifact by URI and digest.
type ResourceDescriptor struct {
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
	Name   string            `json:"name,omitempty"`
}

// RunDetails says who ran the build and which run it was.
type RunDetails struct {
	Builder  Builder   `json:"builder"`
	Metadata *Metadata `json:"metadata,omitempty"`
}

// Builder is the platform that ran the build.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// Metadata identifies one run of the build.
type Metadata struct {
	InvocationID string `json:"invocationId,omitempty"`
}

// FromEnv fills a provenance from CI environment variables read through
// getenv (os.Getenv in a command; a map in a test). A variable the build
// type needs that is missing is an error naming it.
func FromEnv(getenv func(string) string) (*Provenance, error) {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		return fromGitHub(getenv)
	case getenv("GITLAB_CI") == "true":
		return fromGitLab(getenv)
	}
	return nil, ErrNoCI
}

// need reads the named variables and reports every missing one at once.
func need(getenv func(string) string, ci string, names ...string) (map[string]string, error) {
	v := make(map[string]string, len(names))
	var missing []string
	for _, n := range names {
		if v[n] = getenv(n); v[n] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("slsa: %s environment lacks %s", ci, strings.Join(missing, ", "))
	}
	return v, nil
}

func fromGitHub(getenv func(string) string) (*Provenance, error) {
	v, err := need(getenv, "GitHub Actions", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA",
		"GITHUB_REF", "GITHUB_WORKFLOW_REF", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_EVENT_NAME")
	if err != nil {
		return nil, err
	}
	server := strings.TrimSuffix(v["GITHUB_SERVER_URL"], "/")
	repo := server + "/" + v["GITHUB_REPOSITORY"]
	// GITHUB_WORKFLOW_REF is "owner/repo/.github/workflows/x.yml@refs/heads/main".
	wf, _, ok := strings.Cut(v["GITHUB_WORKFLOW_REF"], "@")
	path, found := strings.CutPrefix(wf, v["GITHUB_REPOSITORY"]+"/")
	if !ok || !found || path == "" {
		return nil, fmt.Errorf("slsa: GITHUB_WORKFLOW_REF %q is not %s/PATH@REF", v["GITHUB_WORKFLOW_REF"], v["GITHUB_REPOSITORY"])
	}
	runner := getenv("RUNNER_ENVIRONMENT")
	if runner == "" {
		runner = "self-hosted" // absent on older self-hosted runners; never assume GitHub's
	}
	internal := map[string]any{"event_name": v["GITHUB_EVENT_NAME"], "runner_environment": runner}
	for key, env := range map[string]string{"repository_id": "GITHUB_REPOSITORY_ID", "repository_owner_id": "GITHUB_REPOSITORY_OWNER_ID"} {
		if s := getenv(env); s != "" {
			internal[key] = s
		}
	}
	return &Provenance{
		BuildDefinition: BuildDefinition{
			BuildType: GitHubBuildType,
			ExternalParameters: map[string]any{"workflow": map[string]any{
				"ref": v["GITHUB_REF"], "repository": repo, "path": path,
			}},
			InternalParameters: map[string]any{"github": internal},
			ResolvedDependencies: []ResourceDescriptor{{
				URI:    "git+" + repo + "@" + v["GITHUB_REF"],
				Digest: map[string]string{"gitCommit": v["GITHUB_SHA"]},
			}},
		},
		RunDetails: RunDetails{
			Builder: Builder{ID: "https://github.com/actions/runner/" + runner},
			Metadata: &Metadata{InvocationID: fmt.Sprintf("%s/actions/runs/%s/attempts/%s",
				repo, v["GITHUB_RUN_ID"], v["GITHUB_RUN_ATTEMPT"])},
		},
	}, nil
}

func fromGitLab(getenv func(string) string) (*Provenance, error) {
	v, err := need(getenv, "GitLab CI", "CI_SERVER_URL", "CI_PROJECT_PATH", "CI_PROJECT_URL", "CI_COMMIT_SHA",
		"CI_COMMIT_REF_NAME", "CI_CONFIG_PATH", "CI_PIPELINE_SOURCE", "CI_PIPELINE_ID", "CI_JOB_ID", "CI_JOB_URL", "CI_RUNNER_ID")
	if err != nil {
		return nil, err
	}
	ref := "refs/heads/" + v["CI_COMMIT_REF_NAME"]
	if getenv("CI_COMMIT_TAG") != "" {
		ref = "refs/tags/" + v["CI_COMMIT_REF_NAME"]
	}
	internal := map[string]any{"pipeline_id": v["CI_PIPELINE_ID"], "job_id": v["CI_JOB_ID"]}
	if s := getenv("CI_PROJECT_ID"); s != "" {
		internal["project_id"] = s
	}
	builder := Builder{ID: strings.TrimSuffix(v["CI_SERVER_URL"], "/") + "/" + v["CI_PROJECT_PATH"] + "/-/runners/" + v["CI_RUNNER_ID"]}
	if s := getenv("CI_RUNNER_VERSION"); s != "" {
		builder.Version = map[string]string{"gitlab-runner": s}
	}
	return &Provenance{
		BuildDefinition: BuildDefinition{
			BuildType: GitLabBuildType,
			ExternalParameters: map[string]any{
				"pipeline": map[string]any{"repository": v["CI_PROJECT_URL"], "ref": ref, "path": v["CI_CONFIG_PATH"]},
				"source":   v["CI_PIPELINE_SOURCE"],
			},
			InternalParameters: map[string]any{"gitlab": internal},
			ResolvedDependencies: []ResourceDescriptor{{
				URI:    "git+" + v["CI_PROJECT_URL"] + "@" + ref,
				Digest: map[string]string{"gitCommit": v["CI_COMMIT_SHA"]},
			}},
		},
		RunDetails: RunDetails{
			Builder:  builder,
			Metadata: &Metadata{InvocationID: v["CI_JOB_URL"]},
		},
	}, nil
}

// Marshal returns p as compact JSON, the predicate of a statement.
func (p *Provenance) Marshal() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("slsa: encoding provenance: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Validate checks the fields SLSA v1 requires: a build type, external
// parameters and a builder id.
func (p *Provenance) Validate() error {
	switch {
	case p.BuildDefinition.BuildType == "":
		return errors.New("slsa: provenance has no buildDefinition.buildType")
	case p.BuildDefinition.ExternalParameters == nil:
		return errors.New("slsa: provenance has no buildDefinition.externalParameters")
	case p.RunDetails.Builder.ID == "":
		return errors.New("slsa: provenance has no runDetails.builder.id")
	}
	return nil
}

// Parse reads a provenance predicate (already bounded and checked for
// duplicate keys by intoto.Parse) and validates it.
func Parse(b []byte) (*Provenance, error) {
	var p Provenance
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("slsa: malformed provenance: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}
