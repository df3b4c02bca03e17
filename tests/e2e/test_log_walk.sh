#!/bin/bash
# Directory recursion: every regular file under the tree is scanned once, in
# bytewise-sorted order, whatever its name; a symlink loop is reported (on
# stderr and in summary.json, naming the link) and does not stop the run, so
# the exit status is 3 (matches + trouble). The tree is made at test time.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "$@"

t="$E2E_TMP/tree"
mkdir -p "$t/a/b" "$t/c" "$t/B"
echo 'x evil.com' >"$t/a/b/1.log"
printf 'none\ny www.evil.com\n' >"$t/c/2.txt"
echo 'nothing' >"$t/top.log"
echo 'upper evil.com' >"$t/B/3"
printf 'q\nr\nz evil.com\n' | gzip -n >"$t/c/4.log"
ln -s .. "$t/a/b/up"        # loop: a/b/up -> a

cs_scan "$E2E_TMP/out" -e domain:evil.com "$t"
expect_rc "scan with a loop" 3 "$CS_RC"
expect_grep "loop on stderr" "$E2E_TMP/out.err" "$t/a/b/up"
ndjson_valid "$E2E_TMP/out/records.ndjson" || fail "records are not valid NDJSON"

python3 - "$E2E_TMP/out" "$t" <<'EOF' || fail "walk results are not as expected"
import json, sys
out, t = sys.argv[1], sys.argv[2]
recs = [json.loads(l) for l in open(out + '/records.ndjson') if l.strip()]
s = json.load(open(out + '/summary.json'))
errs = []
got = sorted((r['source']['path'][len(t) + 1:], r['source']['line']) for r in recs)
want = [('B/3', 1), ('a/b/1.log', 1), ('c/2.txt', 2), ('c/4.log', 3)]
if got != want:
    errs.append('records at %s, want %s' % (got, want))
# Records are numbered in input order, inputs in bytewise order.
order = [r['source']['path'][len(t) + 1:] for r in sorted(recs, key=lambda r: r['seq'])]
if order != [w[0] for w in want]:
    errs.append('records in order %s' % order)
paths = [i['path'][len(t) + 1:] for i in s['inputs']]
if paths != ['B/3', 'a/b/1.log', 'a/b/up', 'c/2.txt', 'c/4.log', 'top.log']:
    errs.append('inputs %s' % paths)
for i in s['inputs']:
    p = i['path'][len(t) + 1:]
    if p == 'a/b/up':
        if i['status'] == 'complete' or 'symlink' not in (i['reason'] or ''):
            errs.append('loop entry: status %s reason %r' % (i['status'], i['reason']))
    elif i['status'] != 'complete':
        errs.append('%s: status %s (%s)' % (p, i['status'], i['reason']))
if s['matches'] != 4 or s['exit_code'] != 3:
    errs.append('matches %s exit_code %s' % (s['matches'], s['exit_code']))
for e in errs:
    print('  ' + e, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF
finish
