#!/bin/bash
# Run one end-to-end case folder: run_case.sh BINARY CASEDIR.
#
# CASEDIR holds (see README.md):
#   cmd                    scan arguments, one per line; @CASE@ = CASEDIR (absolute),
#                          @OUT@ = a fresh evidence folder path, @TMP@ = a scratch folder
#   exit                   expected exit status (default 0)
#   expected.ndjson        expected records, normalised (compared as a sorted set of
#                          canonical JSON objects; paths under CASEDIR written @CASE@)
#   expected_summary.json  keys that must equal summary.json's values (a "*" at the
#                          end of a string value makes it a prefix)
#   stdin                  fed to the scan on standard input (default: /dev/null)
#   stderr_contains        fixed strings, one per line, that stderr must contain
# Records come from @OUT@/records.ndjson, or from stdout when there is none
# (--out -); the summary from @OUT@/summary.json or else @TMP@/summary.json.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

bin=$1
case_dir=$(cd "$2" && pwd)
e2e_init "$bin" "$here/../.."
name=$(basename "$case_dir")
out="$E2E_TMP/out"
scratch="$E2E_TMP/scratch"
mkdir -p "$scratch"

if [ ! -f "$case_dir/cmd" ]; then
	echo "FAIL: $name has no cmd" >&2
	exit 1
fi
args=()
while IFS= read -r line || [ -n "$line" ]; do
	[ -z "$line" ] && continue
	line=${line//@CASE@/$case_dir}
	line=${line//@OUT@/$out}
	line=${line//@TMP@/$scratch}
	args+=("$line")
done <"$case_dir/cmd"

stdin=/dev/null
[ -f "$case_dir/stdin" ] && stdin="$case_dir/stdin"
(cd "$scratch" && "$CS_BIN" scan "${args[@]}") <"$stdin" >"$E2E_TMP/stdout" 2>"$E2E_TMP/stderr"
rc=$?

want_rc=0
[ -f "$case_dir/exit" ] && want_rc=$(tr -d ' \n' <"$case_dir/exit")
if [ "$rc" != "$want_rc" ]; then
	fail "$name: exit status $rc, expected $want_rc"
	sed 's/^/    stderr: /' "$E2E_TMP/stderr" | head -20 >&2
fi

records="$out/records.ndjson"
[ -f "$records" ] || records="$E2E_TMP/stdout"
if ! ndjson_valid "$records"; then
	fail "$name: records are not valid NDJSON"
fi

if [ -f "$case_dir/expected.ndjson" ]; then
	ndjson_norm "$case_dir/expected.ndjson" "$case_dir" >"$E2E_TMP/want" &&
		ndjson_norm "$records" "$case_dir" >"$E2E_TMP/got" || fail "$name: cannot normalise records"
	if ! diff -u "$E2E_TMP/want" "$E2E_TMP/got" >"$E2E_TMP/diff"; then
		fail "$name: records differ from expected.ndjson (- expected, + actual):"
		head -60 "$E2E_TMP/diff" >&2
	fi
fi

if [ -f "$case_dir/expected_summary.json" ]; then
	summary="$out/summary.json"
	[ -f "$summary" ] || summary="$scratch/summary.json"
	if [ ! -f "$summary" ]; then
		fail "$name: no summary.json written"
	elif ! json_subset "$case_dir/expected_summary.json" "$summary" "$case_dir"; then
		fail "$name: summary.json differs from expected_summary.json"
	fi
fi

if [ -f "$case_dir/stderr_contains" ]; then
	while IFS= read -r want || [ -n "$want" ]; do
		[ -z "$want" ] && continue
		want=${want//@CASE@/$case_dir}
		expect_grep "$name: stderr" "$E2E_TMP/stderr" "$want"
	done <"$case_dir/stderr_contains"
fi

finish
