#!/usr/bin/env bash
# run.sh is the body of the chainvet GitHub Action (action.yml): it runs
# chainvet gate, writes the Markdown report to the job's step summary and
# the result to the step's outputs, and leaves a SARIF file for the upload
# step. It is plain bash so that a test can run it with a fake chainvet
# and a fake GITHUB_* environment (internal/config/action_test.go).
#
# Inputs, from action.yml:
#   INPUT_PATH          directory to gate (default: .)
#   INPUT_POLICY        policy file (default: none given; gate's own default,
#                       or gate.policy in .chainvet.yaml)
#   INPUT_MODE          enforce (a failing gate fails the job) or report
#                       (the job passes; the summary says what would fail)
#   INPUT_BASE          git revision to diff against (--base), or empty
#   INPUT_UPLOAD_SARIF  true or false: also write SARIF for code scanning
#
# Outputs (to $GITHUB_OUTPUT): result (pass, fail or error), exit-code,
# summary-file, and sarif-file when SARIF was written.
#
# Exit status: 0 when the gate passed, or failed in report mode; 1 when
# it failed in enforce mode; 2 when chainvet could not run the gate, in
# either mode: an error is never a pass.
set -euo pipefail

path=${INPUT_PATH:-.}
policy=${INPUT_POLICY:-}
mode=${INPUT_MODE:-enforce}
base=${INPUT_BASE:-}
upload_sarif=${INPUT_UPLOAD_SARIF:-true}

fail() {
	echo "::error title=chainvet::$1"
	exit 2
}

case $mode in
enforce | report) ;;
*) fail "input mode must be enforce or report, not '$mode'" ;;
esac
case $upload_sarif in
true | false) ;;
*) fail "input upload-sarif must be true or false, not '$upload_sarif'" ;;
esac
[[ -n ${GITHUB_OUTPUT:-} ]] || fail "GITHUB_OUTPUT is not set: run this as a GitHub Action step"
[[ -n ${GITHUB_STEP_SUMMARY:-} ]] || fail "GITHUB_STEP_SUMMARY is not set: run this as a GitHub Action step"
command -v chainvet >/dev/null || fail "chainvet is not on PATH: the install step failed"

cd "${GITHUB_WORKSPACE:-.}"
out=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/chainvet
mkdir -p "$out"
summary=$out/summary.md
sarif=$out/chainvet.sarif
rm -f "$summary" "$sarif"

# The gate always runs in enforce mode: its exit code is the result, which
# the outputs report in both modes; report mode is applied below.
args=(gate "$path" --mode enforce)
[[ -z $policy ]] || args+=(--policy "$policy")
[[ -z $base ]] || args+=(--base "$base")

code=0
chainvet "${args[@]}" -o markdown --file "$summary" 2>"$out/stderr" || code=$?
cat "$out/stderr" >&2

if [[ $upload_sarif == true && ($code == 0 || $code == 1) ]]; then
	# A second run for SARIF; its verdict is the same, only errors matter.
	scode=0
	chainvet "${args[@]}" -o sarif --file "$sarif" 2>>"$out/stderr" || scode=$?
	if [[ $scode != 0 && $scode != 1 ]]; then
		code=$scode
	fi
fi

case $code in
0) result=pass ;;
1) result=fail ;;
*) result=error ;;
esac

{
	if [[ $mode == report ]]; then
		echo "> **chainvet gate: report mode.** This job does not fail on the gate's result; it shows what enforce mode would do."
		echo
	fi
	if [[ $result == error ]]; then
		echo "## chainvet gate: error"
		echo
		echo "chainvet exited with status $code, so nothing was decided:"
		echo
		echo '```'
		tail -n 20 "$out/stderr"
		echo '```'
	elif [[ -s $summary ]]; then
		cat "$summary"
	else
		echo "## chainvet gate: $result"
		echo
		echo "(chainvet wrote no Markdown report)"
	fi
} >>"$GITHUB_STEP_SUMMARY"

{
	echo "result=$result"
	echo "exit-code=$code"
	echo "summary-file=$summary"
	if [[ $result != error && -s $sarif ]]; then
		echo "sarif-file=$sarif"
	fi
} >>"$GITHUB_OUTPUT"

case $result in
pass) echo "chainvet: gate passed" ;;
fail)
	if [[ $mode == report ]]; then
		echo "::warning title=chainvet::the gate would fail (report mode); see the job summary"
	else
		echo "::error title=chainvet::the gate failed; see the job summary"
		exit 1
	fi
	;;
error) fail "chainvet gate could not run (exit $code); see the log above" ;;
esac
