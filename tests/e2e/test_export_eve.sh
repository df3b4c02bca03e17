#!/bin/bash
# export --format eve: one Suricata-style alert per record; every line is JSON
# with the field names SIEM pipelines parse for Suricata; packet records carry
# the addresses, ports, protocol and Community ID of the record's flow and the
# application block of its field; log records carry no address fields; the
# cybersieve block points back at the record; a second export is identical.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_init "$1" "$2"
T=$E2E_TMP

cs_scan "$T/run" -e domain:bro.org -e domain:google.de -e domain:carvio-airdrop.xyz \
	"$CS_SRC/tests/data/pcap/http-qinq-0.pcap" "$CS_SRC/tests/e2e/pcap/chrome-34-google.pcap" \
	"$CS_SRC/samples/logs"
expect_rc "scan" 0 "$CS_RC"
"$CS_BIN" export --format eve "$T/run" >"$T/eve.json" 2>"$T/eve.err"
expect_rc "export eve" 0 $? || sed 's/^/    /' "$T/eve.err" >&2
"$CS_BIN" export --format eve -o "$T/eve2.json" "$T/run" 2>/dev/null
cmp -s "$T/eve.json" "$T/eve2.json" || fail "a second export differs"

python3 - "$T/eve.json" "$T/run/records.ndjson" <<'PY' || fail "eve checks"
import json, sys, hashlib, re
events = []
errors = []
for n, line in enumerate(open(sys.argv[1]), 1):
    try:
        events.append(json.loads(line))
    except ValueError as e:
        errors.append("line %d is not JSON: %s" % (n, e))
records = [json.loads(l) for l in open(sys.argv[2])]
if len(events) != len(records):
    errors.append("%d events for %d records" % (len(events), len(records)))
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$")
kinds = set()
for ev, rec in zip(events, records):
    rid = rec["record_id"]
    if ev.get("event_type") != "alert" or not ts.match(ev.get("timestamp", "")):
        errors.append(rid + ": event_type/timestamp")
    a = ev.get("alert", {})
    for k in ("action", "gid", "signature_id", "rev", "signature", "category", "severity"):
        if k not in a:
            errors.append("%s: alert.%s missing" % (rid, k))
    ind = rec["indicator"]
    sid = int.from_bytes(hashlib.sha256(("%s\n%s" % (ind["pack"]["name"], ind["id"])).encode()).digest()[:4], "big") & 0x7FFFFFFF
    if a.get("signature_id") != sid:
        errors.append("%s: signature_id %s, expected %d" % (rid, a.get("signature_id"), sid))
    if not a.get("signature", "").startswith("%s: %s %s" % (ind["pack"]["name"], ind["id"], ind["type"])):
        errors.append(rid + ": signature " + a.get("signature", ""))
    cs = ev.get("cybersieve", {})
    if cs.get("record_id") != rid or cs.get("prev") != rec["prev"] or cs.get("seq") != rec["seq"]:
        errors.append(rid + ": cybersieve block does not point at the record")
    if cs.get("source") != rec["source"]:
        errors.append(rid + ": source differs")
    if "flow" in rec:
        kinds.add("packet")
        f = rec["flow"]
        for k in ("src_ip", "src_port", "dest_ip", "dest_port", "proto", "community_id"):
            if ev.get(k) != f[k]:
                errors.append("%s: %s is %r, flow has %r" % (rid, k, ev.get(k), f[k]))
        if not isinstance(ev.get("flow_id"), int):
            errors.append(rid + ": flow_id")
        field = rec.get("field", "")
        value = rec["match"]["context"]["before"] + rec["match"]["text"] + rec["match"]["context"]["after"]
        if field == "http.host" and (ev.get("app_proto") != "http" or ev["http"]["hostname"] != value):
            errors.append(rid + ": http block")
        if field == "tls.sni" and (ev.get("app_proto") != "tls" or ev["tls"]["sni"] != value):
            errors.append(rid + ": tls block")
        if field == "dns.query" and ev["dns"]["rrname"] != value:
            errors.append(rid + ": dns block")
    else:
        kinds.add("log")
        for k in ("src_ip", "src_port", "dest_ip", "dest_port", "community_id", "flow_id"):
            if k in ev:
                errors.append("%s: log record has %s" % (rid, k))
        if ev["timestamp"][:23] != rec["time_detected"][:23]:
            errors.append(rid + ": log timestamp should be time_detected")
if kinds != {"packet", "log"}:
    errors.append("expected packet and log records, got %s" % sorted(kinds))
if not any(e.get("app_proto") == "tls" for e in events) or not any(e.get("app_proto") == "http" for e in events):
    errors.append("expected both an http and a tls event")
for e in errors[:20]:
    print("   ", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
finish
