package jinja

import (
	"errors"

	"github.com/chainvet/chainvet/internal/inventory"
)

// maxResumes bounds how often scanTokens resumes after a lexical error.
// Each resume lexes on from the error; searches for closers that failed
// once are not repeated, and all searching together is bounded by a
// multiple of the template's size, so the scan stays linear.
const maxResumes = 1 << 16

// parseError reports why a template could not be parsed.
func (r *reporter) parseError(err error) {
	var se *syntaxError
	var le *limitError
	switch {
	case errors.As(err, &le):
		r.limit(Problem{
			Rule: RuleScanLimit, Severity: int(inventory.High), Offset: le.pos,
			Evidence:    le.Error(),
			Message:     "the template exceeds a parse limit and was not analysed past it: it is not known to be safe",
			Remediation: "review the template by hand; real chat templates are far smaller and shallower",
		})
	case errors.As(err, &se):
		r.add(Problem{
			Rule: RuleMalformed, Severity: int(inventory.Medium), Offset: se.pos,
			Evidence:    r.lineAt(se.pos),
			Message:     "Jinja would refuse this template: " + se.msg,
			Remediation: "fix or replace the template; a loader more lenient than Jinja may still render it, so review what it does",
		})
	}
}

// lineAt quotes the source line holding pos, bounded.
func (r *reporter) lineAt(pos int) string {
	pos = max(0, min(pos, len(r.src)))
	from, to := pos, pos
	for from > 0 && r.src[from-1] != '\n' && pos-from < maxEvidence/2 {
		from--
	}
	for to < len(r.src) && r.src[to] != '\n' && to-pos < maxEvidence/2 {
		to++
	}
	return r.evidence(from, to)
}

// scanTokens searches the tokens of a template that could not be parsed
// for names that only an attack uses: dunder and interpreter attributes,
// and modules or callables that run code. It resumes after lexical errors
// so that a payload behind a broken tag is still seen.
func scanTokens(src string, r *reporter) {
	no := newClosers()
	l := &lexer{src: src, no: no}
	prevDot := false
	afterBegin := false // a tag's name is not a reference
	for resumes := 0; resumes <= maxResumes && no.work <= 8*len(src)+(1<<20); {
		t := l.next()
		if t.kind == tokEOF {
			if l.err == nil {
				return
			}
			// Resume one byte past the error, in the state it was found in.
			l = &lexer{src: src, pos: l.err.pos + 1, state: l.errState, no: no}
			prevDot = false
			resumes++
			continue
		}
		var name string
		switch t.kind {
		case tokName:
			name = t.text
		case tokString:
			name = t.str
		}
		report := func(rule string, sev inventory.Severity, msg string) {
			r.add(Problem{
				Rule: rule, Severity: int(sev), Offset: t.pos,
				Evidence:    r.evidence(t.pos, t.end),
				Message:     msg + " (found in a template Jinja refuses; more lenient loaders may render it)",
				Remediation: remediation,
			})
		}
		switch {
		case name == "":
		case isDunder(name):
			report(RuleDunder, inventory.Critical, "`"+name+"` is a Python special attribute")
		case internalAttrs[name] && (prevDot || t.kind == tokString):
			report(RuleInternal, inventory.Critical, "`"+name+"` reaches interpreter frames, code or globals")
		case t.kind == tokName && !afterBegin && (freeDangerous[name] || (prevDot && dangerousAttrs[name])):
			report(RuleDangerous, inventory.Critical, "`"+name+"` names a module or callable that runs, imports or evaluates code")
		}
		prevDot = t.kind == tokOp && t.text == "."
		afterBegin = t.kind == tokBlockBegin
	}
}
