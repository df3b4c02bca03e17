#!/bin/sh
# Captures from Zeek and Suricata test suites, mixed with a log file in one
# run: DNS names, TLS SNI, HTTP Host/URL and body digests are found at the
# packets the upstream tests expect, with the right Community ID (recomputed
# here from the flow tuple) and the capture's SHA-256.
BIN=$1
SRC=$2
command -v python3 >/dev/null 2>&1 || exit 77
T=$(mktemp -d "${TMPDIR:-/tmp}/cs-pcap.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
P=$SRC/tests/e2e/pcap
D=$SRC/tests/data/pcap
printf 'ok line\nvisit www.google.de today\n' > "$T/app.log"
"$BIN" scan -q --threads 2 --out "$T/out" \
	-e domain:bro.org -e domain:google.de -e domain:httpbin.org -e domain:apple.com \
	-e domain:google.com -e url:http://www.baidu.com/ \
	-e md5:090fe607a5be1228362614ccaa088577 \
	-e sha256:cac5f74a1e146d6de26845e3e03732c01167e4bbb4333e76889b538c9bd30362 \
	-e md5:859326e557f4d7d1501b9022c9225536 -e md5:5ff7b2c69c3b22826a717cd5ea4c9f32 \
	"$P/chrome-34-google.pcap" "$P/get.pcap" "$P/get-gzip.pcap" "$T/app.log" \
	"$P/http-sha256-drop-02.pcap" "$D/gre-teb-http.pcap" "$D/pcapng-multi-interface.pcapng" \
	"$D/http-content-gzip.pcap"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: exit $rc (want 0: matches, every input complete)" >&2; exit 1; }
python3 - "$T/out/records.ndjson" <<'PY'
import base64, hashlib, ipaddress, json, struct, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
fails = 0
def cid(f):
    s, d = ipaddress.ip_address(f['src_ip']).packed, ipaddress.ip_address(f['dest_ip']).packed
    sp, dp = f['src_port'], f['dest_port']
    proto = {'TCP': 6, 'UDP': 17}.get(f['proto'], f['proto'])
    if (s, sp) > (d, dp):
        s, d, sp, dp = d, s, dp, sp
    h = hashlib.sha1(struct.pack('!H', 0) + s + d + bytes([proto, 0]) + struct.pack('!HH', sp, dp))
    return '1:' + base64.b64encode(h.digest()).decode()
want = [  # value, field, file, first, last
    ('google.de', 'tls.sni', 'chrome-34-google.pcap', 4, 4),
    # the server's certificate (packet 6) names google.de and *.google.com
    # three times: host names in the payload are found too, once a field
    # has not reported them already
    ('google.de', 'payload', 'chrome-34-google.pcap', 6, 6),
    ('google.com', 'payload', 'chrome-34-google.pcap', 6, 6),
    ('google.com', 'payload', 'chrome-34-google.pcap', 6, 6),
    ('google.com', 'payload', 'chrome-34-google.pcap', 6, 6),
    ('bro.org', 'http.host', 'get.pcap', 4, 4),
    ('httpbin.org', 'http.host', 'get-gzip.pcap', 4, 4),
    # and in the page, gzip-coded on the wire (the JSON echo of the "Host" header)
    ('httpbin.org', 'http.body', 'get-gzip.pcap', 8, 8),
    ('cac5f74a1e146d6de26845e3e03732c01167e4bbb4333e76889b538c9bd30362', 'http.body',
     'http-sha256-drop-02.pcap', 8, 103),
    ('http://www.baidu.com/', 'http.url', 'gre-teb-http.pcap', 4, 4),
    ('090fe607a5be1228362614ccaa088577', 'http.body', 'gre-teb-http.pcap', 6, 10),
    ('apple.com', 'dns.query', 'pcapng-multi-interface.pcapng', 1, 1),
    ('google.com', 'dns.query', 'pcapng-multi-interface.pcapng', 3, 3),
    ('google.com', 'dns.query', 'pcapng-multi-interface.pcapng', 5, 5),
    # a gzip-coded body: the object decoded (272 bytes, tshark's export) and
    # the bytes as sent (190, Arkime's http.md5 for this capture)
    ('859326e557f4d7d1501b9022c9225536', 'http.body', 'http-content-gzip.pcap', 6, 6),
    ('5ff7b2c69c3b22826a717cd5ea4c9f32', 'http.body', 'http-content-gzip.pcap', 6, 6),
]
pk = [r for r in recs if r['source']['kind'] == 'capture']
got = [(r['indicator']['value'], r['field'], r['source']['path'].split('/')[-1],
        r['source']['packet_first'], r['source']['packet_last']) for r in pk]
if got != want:
    print('FAIL: capture records differ:\n got  %s\n want %s' % (got, want)); fails += 1
for r in pk:
    if r['flow']['community_id'] != cid(r['flow']):
        print('FAIL: community id', r['flow']); fails += 1
    path = r['source']['path']
    if r['source']['sha256'] != hashlib.sha256(open(path, 'rb').read()).hexdigest():
        print('FAIL: sha256 of', path); fails += 1
    if list(r)[:12] != ['prev', 'record_id', 'run_id', 'seq', 'time_detected', 'tool',
                        'indicator', 'legal', 'article', 'tlp', 'source', 'match']:
        print('FAIL: keys', list(r)); fails += 1
bodies = {r['indicator']['value']: r['match']['body'] for r in pk
          if r['source']['path'].endswith('http-content-gzip.pcap')}
if bodies != {'859326e557f4d7d1501b9022c9225536': {'length': 272, 'content_encoding': 'gzip'},
              '5ff7b2c69c3b22826a717cd5ea4c9f32': {'length': 190, 'content_encoding': 'gzip',
                                                   'as_sent': True}}:
    print('FAIL: body figures of the gzip-coded body', bodies); fails += 1
logs = [r for r in recs if r['source']['kind'] == 'log']
if len(logs) != 1 or logs[0]['source']['line'] != 2:
    print('FAIL: log record missing', logs); fails += 1
if [r['seq'] for r in recs] != list(range(1, len(recs) + 1)):
    print('FAIL: seq not 1..n'); fails += 1
# Input order is kept: the log's record sits between the captures' records.
order = [r['source']['path'].split('/')[-1] for r in recs]
if order.index('app.log') != 8:
    print('FAIL: order', order); fails += 1
sys.exit(1 if fails else 0)
PY
