#!/bin/bash
# Differential test against grep on a real access log (tests/data/apache_logs):
#  - literals (tests/data/apache_literals.txt, -f literal:FILE): the set of
#    matching line numbers equals `LC_ALL=C grep -n -F -f FILE`, and for every
#    literal the number of lines it matches equals `grep -c -F -e LITERAL`;
#  - a handful of regexes on which POSIX ERE and Hyperscan agree (-f regex:FILE):
#    the same against `grep -n -E` and `grep -c -E -e`.
# Each with --threads 1, --threads 2, and --chunk-size 4096 (many chunk
# boundaries, so lines cut by a chunk must still be found once, on the right line).
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
export LC_ALL=C

log="$CS_SRC/tests/data/apache_logs"
lits="$CS_SRC/tests/data/apache_literals.txt"
[ -f "$lits" ] || lits="$CS_SRC/tests/e2e/log-grep-diff/literals.txt"
[ -f "$log" ] && [ -f "$lits" ] || { echo "SKIP: $log or $lits missing" >&2; exit 77; }

rx="$E2E_TMP/regexes.txt"
cat >"$rx" <<'EOF'
^1[0-9]{2}\.[0-9]+\.
"GET /favicon\.ico HTTP/1\.[01]"
" 404 [0-9]+ "
Mozilla/5\.0 \(X11; Linux
\.php\?[a-z]+=
(Wget|curl)/[0-9]
"-"$
[0-9]{3}\.[0-9]{3}\.[0-9]{3}\.[0-9]{3} 
EOF

# compare TYPE GREPFLAG LISTFILE
compare() {
	local type=$1 flag=$2 list=$3
	grep -n "$flag" -f "$list" "$log" | cut -d: -f1 >"$E2E_TMP/want.lines"
	: >"$E2E_TMP/want.counts"
	while IFS= read -r v || [ -n "$v" ]; do
		[ -z "$v" ] && continue
		n=$(grep -c "$flag" -e "$v" "$log")
		[ "$n" -gt 0 ] && printf '%d\t%s\n' "$n" "$v" >>"$E2E_TMP/want.counts"
	done <"$list"
	sort -o "$E2E_TMP/want.counts" "$E2E_TMP/want.counts"
	[ -s "$E2E_TMP/want.lines" ] || fail "$type: grep found nothing (bad fixture?)"

	local i=0
	for opts in "--threads 1" "--threads 2" "--threads 2 --chunk-size 4096"; do
		i=$((i + 1))
		local out="$E2E_TMP/$type-$i"
		# shellcheck disable=SC2086
		cs_scan "$out" --context 0 $opts -f "$type:$list" "$log"
		expect_rc "$type $opts" 0 "$CS_RC"
		rec_lines "$out/records.ndjson" >"$E2E_TMP/got.lines"
		if ! cmp -s "$E2E_TMP/want.lines" "$E2E_TMP/got.lines"; then
			fail "$type $opts: matching lines differ from grep (< grep, > cybersieve):"
			diff "$E2E_TMP/want.lines" "$E2E_TMP/got.lines" | head -10 >&2
		fi
		rec_count_by_value "$out/records.ndjson" | sort >"$E2E_TMP/got.counts"
		if ! cmp -s "$E2E_TMP/want.counts" "$E2E_TMP/got.counts"; then
			fail "$type $opts: per-$type line counts differ from grep -c (< grep, > cybersieve):"
			diff "$E2E_TMP/want.counts" "$E2E_TMP/got.counts" | head -10 >&2
		fi
		local lines
		lines=$(summary_get "$out/summary.json" "s['lines']")
		[ "$lines" = "$(wc -l <"$log")" ] || fail "$type $opts: summary lines $lines"
	done
	note "$type: $(wc -l <"$E2E_TMP/want.lines") matching lines, $(wc -l <"$E2E_TMP/want.counts") values with hits"
}

compare literal -F "$lits"
compare regex -E "$rx"
finish
