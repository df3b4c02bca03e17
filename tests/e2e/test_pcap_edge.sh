#!/bin/sh
# Captures at their edges: gzip-compressed, cut short (partial, records before
# the cut kept), and a literal split across three TCP segments (crafted here)
# found once, at the packets that carry its first and last bytes, the same
# with one and with three worker threads; and how many workers a capture gets
# with and without --threads.
BIN=$1
SRC=$2
command -v python3 >/dev/null 2>&1 || exit 77
T=$(mktemp -d "${TMPDIR:-/tmp}/cs-pcap.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
P=$SRC/tests/e2e/pcap
fails=0

# gzip: same records as the plain capture, sha256 of the compressed file.
python3 -c "import gzip,shutil,sys; shutil.copyfileobj(open(sys.argv[1],'rb'), gzip.open(sys.argv[2],'wb'))" \
	"$P/http-sha256-drop-02.pcap" "$T/c.pcap.gz"
"$BIN" scan -q --out "$T/gz" -e sha256:cac5f74a1e146d6de26845e3e03732c01167e4bbb4333e76889b538c9bd30362 \
	"$T/c.pcap.gz" || { echo "FAIL: gzip capture exit $?" >&2; fails=$((fails + 1)); }

# truncated: cut inside packet 7, after the SNI (4) and the certificate (6).
python3 -c "import sys; d=open(sys.argv[1],'rb').read(); open(sys.argv[2],'wb').write(d[:2400])" \
	"$P/chrome-34-google.pcap" "$T/cut.pcap"
"$BIN" scan -q --out "$T/cut" -e domain:google.de "$T/cut.pcap"
rc=$?
[ $rc -eq 3 ] || { echo "FAIL: truncated capture exit $rc, want 3" >&2; fails=$((fails + 1)); }

# split literal: 3 segments of one TCP connection, packets 4, 5, 6.
python3 - "$T/split.pcap" <<'PY'
import struct, sys
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def frame(c2s, seq, flags, data):
    a, b = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    src, dst, sp, dp = (a, b, 40000, 8080) if c2s else (b, a, 8080, 40000)
    tcp = struct.pack('!HHIIBBHHH', sp, dp, seq, 1, 0x50, flags, 8192, 0, 0) + data
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\0\1\2\3\4\5\0\6\7\10\11\12\x08\x00' + ip + tcp
pk = [frame(1, 100, 2, b''), frame(0, 900, 0x12, b''), frame(1, 101, 0x10, b''),
      frame(1, 101, 0x18, b'hello WIRE-'), frame(1, 112, 0x18, b'TRANSFER-'),
      frame(1, 121, 0x18, b'CODE-77 done\n'), frame(0, 901, 0x18, b'WIRE-TRANSFER-CODE-77')]
out = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
for i, p in enumerate(pk):
    out += struct.pack('<IIII', 1700000000 + i, 0, len(p), len(p)) + p
open(sys.argv[1], 'wb').write(out)
PY
for th in 1 3; do
	"$BIN" scan -q --threads $th --out "$T/split$th" -e literal:WIRE-TRANSFER-CODE-77 "$T/split.pcap" ||
		{ echo "FAIL: split exit $?" >&2; fails=$((fails + 1)); }
done

# Workers: without --threads a capture file under 4 MiB gets one, a larger one
# as many as there are CPUs online; --threads N is kept whatever the size.
python3 - "$T/big.pcap" <<'PY'
import struct, sys
out = [struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
for i in range(3500):  # 3500 UDP datagrams of 1,400 bytes: 5 MB
    udp = struct.pack('!HHHH', 40000 + i % 50, 53, 8 + 1400, 0) + bytes([65 + i % 26]) * 1400
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1 + i % 50]), bytes([10, 0, 1, 1]))
    frame = b'\x00\x11\x22\x33\x44\x55' * 2 + b'\x08\x00' + ip + udp
    out.append(struct.pack('<IIII', 1700000000 + i, 0, len(frame), len(frame)) + frame)
open(sys.argv[1], 'wb').write(b''.join(out))
PY
"$BIN" scan -q --out "$T/big" -e literal:WIRE-TRANSFER-CODE-77 "$T/big.pcap"
[ $? -eq 1 ] || { echo "FAIL: big capture exit, want 1 (nothing found)" >&2; fails=$((fails + 1)); }
CPUS=$(getconf _NPROCESSORS_ONLN)

python3 - "$T" "$CPUS" <<'PY'
import json, sys
t = sys.argv[1]
def recs(d): return [json.loads(l) for l in open(t + '/' + d + '/records.ndjson')]
fails = 0
g = recs('gz')
if [(r['field'], r['source']['packet_last']) for r in g] != [('http.body', 103)]:
    print('FAIL: gzip records', g); fails += 1
s = json.load(open(t + '/gz/summary.json'))
c = recs('cut')
# the SNI, and the server's certificate in packet 6 (it names google.de)
if [(r['field'], r['source']['packet_first']) for r in c] != [('tls.sni', 4), ('payload', 6)]:
    print('FAIL: records before the cut', c); fails += 1
st = json.dumps(json.load(open(t + '/cut/summary.json')))
if 'partial' not in st:
    print('FAIL: truncated capture not partial'); fails += 1
for th in ('1', '3'):
    sp = recs('split' + th)
    got = [(r['field'], r['source']['packet_first'], r['source']['packet_last'],
            r['match']['offset'], r['match']['text'], r['flow']['direction']) for r in sp]
    want = [('payload', 4, 6, 6, 'WIRE-TRANSFER-CODE-77', 'to_server'),
            ('payload', 7, 7, 0, 'WIRE-TRANSFER-CODE-77', 'to_client')]
    if got != want:
        print('FAIL: split (threads %s): %s' % (th, got)); fails += 1
def workers(d): return json.load(open(t + '/' + d + '/summary.json'))['inputs'][0]['workers']
want_w = {'gz': 1, 'split1': 1, 'split3': 3, 'big': int(sys.argv[2])}
got_w = {d: workers(d) for d in want_w}
if got_w != want_w:
    print('FAIL: workers %s, want %s' % (got_w, want_w)); fails += 1
sys.exit(1 if fails else 0)
PY
[ $? -eq 0 ] || fails=$((fails + 1))
[ $fails -eq 0 ]
