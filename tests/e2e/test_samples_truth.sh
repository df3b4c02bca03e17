#!/bin/bash
# The bundled demo (`./build.sh demo`: the packs of rules/ over samples/logs)
# finds exactly the ground truth samples/README.md writes down: every
# planted (line, indicator) pair of its tables, every rule firing with its
# parts, nothing on the near-miss lines and nothing else in the plain files.
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2"
cs_scan "$E2E_TMP/o" --rules "$CS_SRC/rules" "$CS_SRC/samples/logs"
expect_rc "demo" 0 "$CS_RC"
"$CS_BIN" verify "$E2E_TMP/o" >/dev/null 2>&1 || fail "demo: verify"
python3 - "$CS_SRC/samples/README.md" "$E2E_TMP/o/records.ndjson" <<'PY' || fail "demo: ground truth"
import json, os, re, sys
readme, recs = open(sys.argv[1]).read(), [json.loads(l) for l in open(sys.argv[2])]
def section(title):
    m = re.search(r'^## ' + re.escape(title) + r'.*?$(.*?)(?=^## |\Z)', readme, re.S | re.M)
    assert m, title
    return [l for l in m.group(1).splitlines() if l.startswith('| ') and not l.startswith('| file')
            and not l.startswith('| where') and not l.startswith('|---')]
want, got, errors = set(), set(), []
for row in section('Ground truth: planted indicators'):
    cells = [c.strip() for c in row.strip('|').split('|')]
    f, line = cells[0].split(':')
    want.add((f, int(line), cells[1]))
rules = set()
for row in section('Ground truth: rules'):
    cells = [c.strip() for c in row.strip('|').split('|')]
    f, lines = cells[0].split(':')
    rules.add((f, tuple(int(x) for x in lines.split(',')), cells[1].split()[0]))
near = set()
for row in section('Near misses'):
    f, line = row.strip('|').split('|')[0].strip().split(':')
    near.add((f, int(line)))
got_rules = set()
for r in recs:
    ind = r['indicator']
    if 'contributors' in r:
        c = r['contributors']
        got_rules.add((os.path.basename(c[0]['path']), tuple(sorted({x['line'] for x in c})), ind['id']))
        continue
    f = os.path.basename(r['source']['path'])
    if f.endswith('.gz'):
        continue
    got.add((f, r['source']['line'], ind['id']))
if want - {g for g in got}:
    errors.append('missed: %s' % sorted(want - got))
lookalike = {g for g in got if g[2].startswith('br-')}
extra = got - want - lookalike
if extra:
    errors.append('not in the truth: %s' % sorted(extra))
# Lookalike firings of the brands pack are in the rules table.
for f, line, i in lookalike:
    if (f, (line,), i) not in rules:
        errors.append('lookalike not in the truth: %s' % ((f, line, i),))
got_rules |= {(f, (line,), i) for f, line, i in lookalike}
if rules != got_rules:
    errors.append('rules: want %s, got %s' % (sorted(rules - got_rules), sorted(got_rules - rules)))
for f, line, i in got:
    if (f, line) in near and not i.startswith('br-'):
        errors.append('near miss matched: %s:%d %s' % (f, line, i))
print('\n'.join(errors), file=sys.stderr)
sys.exit(1 if errors else 0)
PY
finish
