package rules

import "github.com/chainvet/chainvet/internal/inventory"

// suppressRules are the rules of suppressions themselves: inline
// chainvet:ignore comments and .chainvet-ignore.yaml entries. Their
// findings are never suppressed.
var suppressRules = []Rule{
	{ID: "suppress/invalid", Severity: inventory.Low,
		Summary: "A chainvet:ignore comment gives no rule or no reason, so it suppresses nothing",
		Help:    "Write the rule and why the finding is accepted: # chainvet:ignore mcp/plain-http test server on the lab network."},
	{ID: "suppress/expired", Severity: inventory.Medium,
		Summary: "An ignore-file entry is past its expires date and no longer suppresses anything",
		Help:    "The findings it held back are reported again. Fix them, or review the reason and set a new expires date."},
	{ID: "suppress/unused", Severity: inventory.Info,
		Summary: "An ignore-file entry matched no finding of this scan",
		Help:    "The finding it was written for is gone, or the scan did not cover it. Remove the entry if it is stale."},
}
