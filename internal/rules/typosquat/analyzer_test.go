package typosquat

import (
	"context"
	"testing"

	"github.com/chainvet/chainvet/internal/inventory"
	"github.com/google/go-cmp/cmp"
)

func TestAnalyzer(t *testing.T) {
	pkg := func(id, name, eco string, props ...string) inventory.Component {
		p := map[string]string{"ecosystem": eco}
		for i := 0; i+1 < len(props); i += 2 {
			p[props[i]] = props[i+1]
		}
		return inventory.Component{ID: id, Kind: inventory.KindPackage, Name: name, Properties: p,
			Locations: []inventory.Location{{Path: "requirements.txt", Line: 3}, {Path: "other.txt"}}}
	}
	r := &inventory.Report{Components: []inventory.Component{
		pkg("pkg:pypi/reqeusts", "reqeusts", "pypi"),
		pkg("pkg:pypi/requests", "requests", "pypi"),
		pkg("pkg:npm/crossenv", "crossenv", "npm"),
		pkg("pkg:npm/mongose", "mongose", "npm", "main", "true"),             // the project itself
		pkg("pkg:pypi/colourama", "colourama", "pypi", "source", "editable"), // local
		pkg("pkg:golang/reqeusts", "reqeusts", "golang"),
		{ID: "model:reqeusts", Kind: inventory.KindModel, Name: "reqeusts", Properties: map[string]string{"ecosystem": "pypi"}},
	}}
	got, err := Analyzer{}.Analyze(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Finding{{
		Rule: "package/typosquat", Severity: inventory.High, Component: "pkg:pypi/reqeusts",
		Path: "requirements.txt", Line: 3,
		Evidence:    `"reqeusts" swaps two letters of "requests" (rank 6)`,
		Message:     `pypi package "reqeusts" is named like the popular package "requests" (transposition): a typosquat installs the attacker's code in its place`,
		Remediation: "check the name; did you mean requests?",
	}, {
		Rule: "package/typosquat", Severity: inventory.High, Component: "pkg:npm/crossenv",
		Path: "requirements.txt", Line: 3,
		Evidence:    `"crossenv" differs only in separators from "cross-env" (rank 1931)`,
		Message:     `npm package "crossenv" is named like the popular package "cross-env" (separator): a typosquat installs the attacker's code in its place`,
		Remediation: "check the name; did you mean cross-env?",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Analyze mismatch (-want +got):\n%s", diff)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Analyzer{}).Analyze(ctx, r); err == nil {
		t.Error("Analyze with a cancelled context: no error")
	}
}
