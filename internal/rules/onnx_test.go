package rules

import (
	"regexp"
	"testing"

	"github.com/chainvet/chainvet/internal/catalog/onnx"
	"github.com/chainvet/chainvet/internal/catalog/tensorflow"
)

// TestAreaRules holds the ONNX and TensorFlow rule lists to the contract of
// All, and checks that every rule id their catalogers report is listed.
func TestAreaRules(t *testing.T) {
	id := regexp.MustCompile(`^[a-z]+/[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, r := range All {
		seen[r.ID] = true
	}
	listed := map[string]bool{}
	for _, r := range append(append([]Rule{}, onnxRules...), tensorflowRules...) {
		if !id.MatchString(r.ID) || r.Summary == "" || r.Help == "" {
			t.Errorf("rule %+v is not well formed", r)
		}
		if listed[r.ID] {
			t.Errorf("rule %q listed twice", r.ID)
		}
		listed[r.ID] = true
	}
	for _, reported := range []string{
		onnx.RuleExternalPath, onnx.RuleExternalInvalid, onnx.RuleExternalMissing, onnx.RuleCustomDomain,
		tensorflow.RulePythonOp, tensorflow.RuleIOOp, tensorflow.RuleCustomOp, tensorflow.RuleAssetPath, tensorflow.RuleTFLiteOp,
		"model/malformed", "scan/limit",
	} {
		if !listed[reported] && !seen[reported] {
			t.Errorf("reported rule %q is not listed", reported)
		}
	}
}
