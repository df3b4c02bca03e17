#!/bin/bash
# report: `cybersieve report DIR -o FILE` writes one self-contained page that
# headless Chromium renders; the DOM shows the verdict, counts per category as
# summary.json has them, the top indicators, one row per record, and hostile
# record text (a <script>, quotes, a file name with markup, a right-to-left
# override) only as text. A
# tampered run is reported "tampered" naming the record, a run without a
# manifest "unsealed"; an existing output file is never overwritten.
# Needs chromium (Debian package "chromium"); installed here when running as root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_init "$1" "$2"
T=$E2E_TMP

if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	note "installing chromium (apt-get install -y chromium)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >"$T/apt.log" 2>&1 ||
		{ apt-get update >>"$T/apt.log" 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >>"$T/apt.log" 2>&1; }
fi
if ! command -v chromium >/dev/null 2>&1; then
	echo "SKIP: chromium is not installed and could not be installed (apt-get install chromium)" >&2
	exit 77
fi

# chrome ARGS... URL: headless, offline, a throw-away profile.
chrome() {
	local prof
	prof=$(mktemp -d "$T/chrome.XXXXXX")
	timeout 180 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$prof" "$@" 2>>"$T/chrome.err"
}

# dom DIR HTML EXPECT...: dump HTML's DOM and check it against the evidence in DIR.
dom() {
	local dir=$1 html=$2
	shift 2
	chrome --dump-dom "file://$html" >"$html.dom" || { fail "chromium --dump-dom $html"; return; }
	python3 "$here/report/dom_check.py" "$html.dom" "$dir" "$@" >"$T/dom.out" 2>&1 ||
		{ fail "$(basename "$html"): DOM check"; sed 's/^/    /' "$T/dom.out" >&2; }
}

# A hostile file: its name and its line carry markup and quotes.
mkdir "$T/logs"
hostile="$T/logs/hostile<i>\".log"
payload='<script>document.title="PWNED"</script>'
printf '2026-01-01T10:00:00Z user=mallory msg=%s\342\200\256exe.txt and <img src=x onerror="document.title=1"> & more\n' \
	"$payload" >"$hostile"

cs_scan "$T/run" --rules "$CS_SRC/rules" -e "literal:$payload" --operator 'Unit <7> "night"' \
	--sensor-id ws-1 "$CS_SRC/samples/logs" "$T/logs"
expect_rc "scan" 0 "$CS_RC"
nrec=$(wc -l <"$T/run/records.ndjson")
[ "$nrec" -gt 10 ] || fail "scan wrote only $nrec records"

"$CS_BIN" report "$T/run" -o "$T/r.html" 2>"$T/report.err"
expect_rc "report" 0 $? || sed 's/^/    /' "$T/report.err" >&2
expect_grep "report message" "$T/report.err" "evidence verified"
cp "$T/r.html" "$T/r.keep"
"$CS_BIN" report "$T/run" -o "$T/r.html" 2>"$T/again.err"
expect_rc "report over an existing file" 2 $?
expect_grep "refusal" "$T/again.err" "refusing to overwrite"
cmp -s "$T/r.html" "$T/r.keep" || fail "an existing report was changed"

# The page itself: a strict policy and nothing that would load from elsewhere.
expect_grep "CSP" "$T/r.html" "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-"
python3 - "$T/r.html" <<'EOF' || fail "the page refers to outside resources"
import re, sys
html = open(sys.argv[1], encoding='utf-8').read()
bad = re.findall(r'<[a-zA-Z][^>]*\s(?:src|href|action|srcset)\s*=', html) + \
      re.findall(r'url\(|@import', html) + re.findall(r'<(?:link|iframe|object|embed|img)\b', html)
if bad:
    sys.exit('outside references: %r' % bad[:5])
if html.count('<script') != 1:
    sys.exit('%d script elements' % html.count('<script'))
EOF

dom "$T/run" "$T/r.html" verdict=verified counts top rows="$nrec" tlp=TLP:RED safe \
	"text=val:$payload" "text=match:$payload" "text=loc:hostile<i>\".log" 'text=match:\u202Eexe.txt' \
	'run=Unit <7> "night"' run=ws-1 text=withheld:"content withheld"

chrome --window-size=1280,2400 --screenshot="$T/r.png" "file://$T/r.html" >/dev/null
python3 - "$T/r.png" <<'EOF' || fail "screenshot"
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
if data[:8] != b'\x89PNG\r\n\x1a\n' or len(data) < 20000:
    sys.exit('not a PNG of substance (%d bytes)' % len(data))
w, h = struct.unpack('>II', data[16:24])
if (w, h) != (1280, 2400):
    sys.exit('screenshot is %dx%d' % (w, h))
EOF
[ -n "${CS_REPORT_KEEP:-}" ] && cp "$T/r.html" "$T/r.png" "$CS_REPORT_KEEP/" 2>/dev/null

# A capped table says so.
"$CS_BIN" report "$T/run" -o "$T/capped.html" --max-rows 5 2>/dev/null
expect_rc "report --max-rows 5" 0 $?
dom "$T/run" "$T/capped.html" rows=5 capped counts

# One byte changed in record 5: the report says tampered and names record 6,
# whose link no longer holds.
cp -a "$T/run" "$T/tampered"
sed -i '5s/"confidence":/"confidence":1/' "$T/tampered/records.ndjson"
"$CS_BIN" report "$T/tampered" -o "$T/t.html" 2>"$T/t.err"
expect_rc "report of a tampered run" 1 $?
expect_grep "tampered message" "$T/t.err" "TAMPERED"
dom "$T/tampered" "$T/t.html" verdict=tampered \
	"failure=records.ndjson line 6 (seq 6): prev does not match the previous record" \
	broken=6 rows="$nrec"

# No manifest: a run that did not finish.
cp -a "$T/run" "$T/unsealed"
rm "$T/unsealed/manifest.json" "$T/unsealed/manifest.json.sig"
"$CS_BIN" report "$T/unsealed" -o "$T/u.html" 2>/dev/null
expect_rc "report of an unsealed run" 1 $?
dom "$T/unsealed" "$T/u.html" verdict=unsealed "failure=unsealed: $nrec records verify" \
	rows="$nrec" counts

# A capture: packet numbers, the flow and the field, on the chart by packet time.
cs_scan "$T/cap" -e domain:google.de "$CS_SRC/tests/e2e/pcap/chrome-34-google.pcap"
expect_rc "capture scan" 0 "$CS_RC"
"$CS_BIN" report "$T/cap" -o "$T/c.html" 2>/dev/null
expect_rc "report of a capture" 0 $?
# Two records: the SNI (packet 4) and the server's certificate (packet 6).
dom "$T/cap" "$T/c.html" verdict=verified rows=2 counts top safe \
	"text=loc:chrome-34-google.pcap packet 4" \
	"text=flow:192.168.4.149:55881 → 74.125.239.152:443 TCP (to_server)" text=field:tls.sni
expect_grep "time chart by packet time" "$T/c.html" "by packet time for 2 records"

"$CS_BIN" report "$T/nonexistent" -o "$T/n.html" 2>/dev/null
expect_rc "report of a missing folder" 2 $?
[ -e "$T/n.html" ] && fail "a failed report left its file behind"
finish
