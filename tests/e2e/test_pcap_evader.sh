#!/bin/sh
# The 300 http-evader captures (tests/data/pcap/http-evader/README.md): the
# EICAR literal and the EICAR file's MD5 are reported for each capture
# exactly as expect.tsv says, and no other indicator or file is named.
BIN=$1
SRC=$2
command -v python3 >/dev/null 2>&1 || exit 77
T=$(mktemp -d "${TMPDIR:-/tmp}/cs-evader.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
D=$SRC/tests/data/pcap/http-evader
"$BIN" scan -q --threads 2 --out "$T/out" \
	-e literal:EICAR-STANDARD-ANTIVIRUS-TEST-FILE -e md5:44d88612fea8a8f36de82e1278abb02f "$D"/*.pcap
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: exit $rc (want 0: matches, every input complete)" >&2; exit 1; }
python3 - "$T/out/records.ndjson" "$D/expect.tsv" <<'PY'
import json, os, sys
found = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    case = os.path.basename(r['source']['path'])
    assert case.startswith('http-evader-') and case.endswith('.pcap'), case
    case = case[len('http-evader-'):-len('.pcap')]
    kind = {'e1': 'literal', 'e2': 'md5'}[r['indicator']['id']]
    if kind == 'md5':
        assert r['field'] == 'http.body', r
    found.setdefault(case, set()).add(kind)
fails = 0
n = {'literal': 0, 'md5': 0}
cases = 0
for line in open(sys.argv[2]):
    if line.startswith('#'):
        continue
    case, lit, md5 = line.split()
    cases += 1
    for kind, want in (('literal', lit == '1'), ('md5', md5 == '1')):
        got = kind in found.get(case, set())
        n[kind] += got
        if got != want:
            print('FAIL: %s: %s %s, expected %s' % (case, kind, 'found' if got else 'missed',
                                                    'found' if want else 'missed'))
            fails += 1
extra = set(found) - {l.split()[0] for l in open(sys.argv[2]) if not l.startswith('#')}
if extra:
    print('FAIL: records for captures not listed:', sorted(extra))
    fails += 1
print('http-evader: %d captures, literal in %d, md5 in %d' % (cases, n['literal'], n['md5']))
sys.exit(1 if fails or cases != 300 else 0)
PY
