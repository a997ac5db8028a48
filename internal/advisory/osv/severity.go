package osv

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// Rank is r's severity on chainvet's scale, and how it was decided:
//
//  1. a MAL- record (a malicious package) is critical;
//  2. else the highest CVSS v3 base score among the record's and its
//     affected entries' vectors, computed with the CVSS 3.1 formula;
//  3. else database_specific.severity (GHSA's LOW, MODERATE, HIGH,
//     CRITICAL), on the record or an affected entry;
//  4. else a CVSS v4 vector, ranked by its impact metrics only: any high
//     impact on the vulnerable or a subsequent system is high, any low
//     impact medium, none low (v4's full scoring needs its lookup tables);
//  5. else medium: a known advisory with no score is still worth a look.
func (r *Record) Rank() (inventory.Severity, string) {
	if r.Malicious() {
		return inventory.Critical, "malicious package"
	}
	sevs := append([]Severity(nil), r.Severity...)
	dbs := []json.RawMessage{r.DatabaseSpecific}
	for _, a := range r.Affected {
		sevs = append(sevs, a.Severity...)
		dbs = append(dbs, a.DatabaseSpecific, a.EcosystemSpecific)
	}
	best, bestVec := -1.0, ""
	for _, s := range sevs {
		if s.Type != "CVSS_V3" {
			continue
		}
		score, err := CVSS3Score(s.Score)
		if err == nil && score > best {
			best, bestVec = score, s.Score
		}
	}
	if best >= 0 {
		return cvssSeverity(best), fmt.Sprintf("CVSS %.1f (%s)", best, bestVec)
	}
	for _, db := range dbs {
		if s, ok := dbSeverity(db); ok {
			return s, "database severity"
		}
	}
	for _, s := range sevs {
		if s.Type == "CVSS_V4" {
			if sev, ok := cvss4Impact(s.Score); ok {
				return sev, "CVSS v4 impact (" + s.Score + ")"
			}
		}
	}
	return inventory.Medium, "no severity in the record"
}

// cvssSeverity maps a base score to the CVSS qualitative scale; "none"
// (0.0) becomes info.
func cvssSeverity(score float64) inventory.Severity {
	switch {
	case score >= 9:
		return inventory.Critical
	case score >= 7:
		return inventory.High
	case score >= 4:
		return inventory.Medium
	case score > 0:
		return inventory.Low
	}
	return inventory.Info
}

// dbSeverity reads a "severity" string from a database_specific or
// ecosystem_specific object.
func dbSeverity(raw json.RawMessage) (inventory.Severity, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	var v struct {
		Severity any `json:"severity"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return 0, false
	}
	s, _ := v.Severity.(string)
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "CRITICAL":
		return inventory.Critical, true
	case "HIGH", "IMPORTANT":
		return inventory.High, true
	case "MODERATE", "MEDIUM":
		return inventory.Medium, true
	case "LOW":
		return inventory.Low, true
	}
	return 0, false
}

// metrics splits a CVSS vector "CVSS:3.1/AV:N/..." into its metrics,
// checking the prefix. A repeated metric is an error.
func metrics(vector, prefix string) (map[string]string, error) {
	if len(vector) > 256 {
		return nil, fmt.Errorf("cvss vector of %d bytes is too long", len(vector))
	}
	parts := strings.Split(vector, "/")
	if !strings.HasPrefix(parts[0], prefix) {
		return nil, fmt.Errorf("cvss vector %q: want prefix %q", vector, prefix)
	}
	m := make(map[string]string, len(parts))
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			return nil, fmt.Errorf("cvss vector %q: metric %q has no value", vector, p)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("cvss vector %q: metric %s repeated", vector, k)
		}
		m[k] = v
	}
	return m, nil
}

// CVSS3Score computes the CVSS 3.0/3.1 base score of a vector such as
// "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" (9.8). Temporal and
// environmental metrics are ignored.
func CVSS3Score(vector string) (float64, error) {
	m, err := metrics(vector, "CVSS:3.")
	if err != nil {
		return 0, err
	}
	weights := map[string]map[string]float64{
		"AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
		"AC": {"L": 0.77, "H": 0.44},
		"UI": {"N": 0.85, "R": 0.62},
		"C":  {"H": 0.56, "L": 0.22, "N": 0},
		"I":  {"H": 0.56, "L": 0.22, "N": 0},
		"A":  {"H": 0.56, "L": 0.22, "N": 0},
	}
	w := map[string]float64{}
	for k, table := range weights {
		v, ok := table[m[k]]
		if !ok {
			return 0, fmt.Errorf("cvss vector %q: bad or missing %s", vector, k)
		}
		w[k] = v
	}
	var changed bool
	switch m["S"] {
	case "U":
	case "C":
		changed = true
	default:
		return 0, fmt.Errorf("cvss vector %q: bad or missing S", vector)
	}
	// Privileges required weigh more when the scope changes.
	var pr float64
	switch m["PR"] {
	case "N":
		pr = 0.85
	case "L":
		pr = 0.62
		if changed {
			pr = 0.68
		}
	case "H":
		pr = 0.27
		if changed {
			pr = 0.5
		}
	default:
		return 0, fmt.Errorf("cvss vector %q: bad or missing PR", vector)
	}
	iss := 1 - (1-w["C"])*(1-w["I"])*(1-w["A"])
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	if impact <= 0 {
		return 0, nil
	}
	exploit := 8.22 * w["AV"] * w["AC"] * pr * w["UI"]
	base := impact + exploit
	if changed {
		base *= 1.08
	}
	return roundUp(min(base, 10)), nil
}

// roundUp is CVSS 3.1's Roundup: the smallest one-decimal number at or
// above x, computed on integers to dodge float error (3.1 spec, appendix A).
func roundUp(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// cvss4Impact ranks a CVSS v4 vector by its impact metrics alone.
func cvss4Impact(vector string) (inventory.Severity, bool) {
	m, err := metrics(vector, "CVSS:4.")
	if err != nil {
		return 0, false
	}
	sev, seen := inventory.Low, false
	for _, k := range []string{"VC", "VI", "VA", "SC", "SI", "SA"} {
		switch m[k] {
		case "H":
			return inventory.High, true
		case "L":
			sev, seen = inventory.Medium, true
		case "N":
			seen = true
		}
	}
	return sev, seen
}
