#!/bin/bash
# export --format stix: a run over logs (with a TLP:RED pack) and one over
# captures become STIX 2.1 bundles that validate against the OASIS JSON schemas
# kept in tests/schemas (no network), carry the official TLP 2.0 marking
# definitions, derive observable ids as STIX prescribes, count what the records
# say, resolve every reference, and come out byte-identical when exported
# again. A folder that does not verify is refused. Needs python3-jsonschema.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_init "$1" "$2"
T=$E2E_TMP
SCHEMAS=$CS_SRC/tests/schemas

if ! python3 -c 'import jsonschema' >/dev/null 2>&1; then
	echo "FAIL: the Python module jsonschema is missing (Debian: apt-get install python3-jsonschema)" >&2
	exit 1
fi

# Logs: every shipped pack (scam ones are TLP:CLEAR, the csam test pack
# TLP:RED), plus a literal holding a quote and a backslash.
printf 'pay O'"'"'Brien \\ fee now\n' >"$T/quote.log"
# and a line where a combination rule of scam-combos.pack fires.
printf '3%% daily returns, pay to 0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe\n' >>"$T/quote.log"
cs_scan "$T/logs" --rules "$CS_SRC/rules" -e "literal:O'Brien \\ fee" --operator "CERT Test" \
	--sensor-id ws-1 "$CS_SRC/samples/logs" "$T/quote.log"
expect_rc "scan logs" 0 "$CS_RC"
# Captures: a domain seen in HTTP Host and in TLS SNI.
cs_scan "$T/pcap" -e domain:bro.org -e domain:google.de --sensor-id tap-3 \
	"$CS_SRC/tests/data/pcap/http-qinq-0.pcap" "$CS_SRC/tests/e2e/pcap/chrome-34-google.pcap"
expect_rc "scan captures" 0 "$CS_RC"

for run in logs pcap; do
	"$CS_BIN" export --format stix "$T/$run" >"$T/$run.json" 2>"$T/$run.err"
	expect_rc "export $run" 0 $? || sed 's/^/    /' "$T/$run.err" >&2
	"$CS_BIN" export --format stix -o "$T/$run.again.json" "$T/$run" 2>>"$T/$run.err"
	expect_rc "export $run again" 0 $?
	cmp -s "$T/$run.json" "$T/$run.again.json" || fail "$run: a second export differs"
	python3 - "$SCHEMAS" "$T/$run.json" "$T/$run/records.ndjson" "$T/$run/manifest.json" \
		"$run" <<'PY' || fail "$run: bundle checks"
import json, sys, uuid, os, warnings
import jsonschema
schemas, bundle_path, records_path, manifest_path, run = sys.argv[1:6]
warnings.simplefilter("ignore", DeprecationWarning)
errors = []
def bad(msg):
    errors.append(msg)

# Load every schema under its $id so that relative $refs resolve locally.
store = {}
for root, _, files in os.walk(os.path.join(schemas, "stix2.1", "schemas")):
    for f in files:
        with open(os.path.join(root, f)) as fh:
            s = json.load(fh)
        store[s["$id"]] = s
base = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"
def validator(rel):
    schema = store[base + rel]
    try:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
        reg = Registry().with_resources(
            (k, Resource.from_contents(v, default_specification=DRAFT202012)) for k, v in store.items())
        return jsonschema.Draft202012Validator(schema, registry=reg)
    except ImportError:
        res = jsonschema.RefResolver(base + rel, schema, store=store)
        return jsonschema.Draft202012Validator(schema, resolver=res)
def check(v, obj, what):
    for e in sorted(v.iter_errors(obj), key=str)[:3]:
        bad("%s: %s" % (what, e.message[:300]))

raw = open(bundle_path, "rb").read()
bundle = json.loads(raw)
records = [json.loads(l) for l in open(records_path)]
manifest = json.load(open(manifest_path))
check(validator("common/bundle.json"), bundle, "bundle")
kinds = {"identity": "sdos", "indicator": "sdos", "observed-data": "sdos", "sighting": "sros",
         "marking-definition": "common"}
vals = {}
objs = bundle["objects"]
byid = {}
for o in objs:
    t = o["type"]
    rel = "%s/%s.json" % (kinds.get(t, "observables"), t)
    if rel not in vals:
        vals[rel] = validator(rel)
    check(vals[rel], o, o["id"])
    if o["id"] in byid:
        bad("duplicate id " + o["id"])
    byid[o["id"]] = o
    if not o["id"].startswith(t + "--"):
        bad("id does not name its type: " + o["id"])

# Deterministic ids: the bundle from the run id in cybersieve's namespace.
ns = uuid.UUID("7faa6fed-c11f-41a6-8cfd-fb72c5a87ceb")
if bundle["id"] != "bundle--" + str(uuid.uuid5(ns, manifest["run_id"])):
    bad("bundle id is not UUIDv5 of the run id")
# Observables: STIX namespace over the canonical JSON of the id properties.
stix_ns = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
contrib = {"domain-name": ["value"], "url": ["value"], "email-addr": ["value"],
           "ipv4-addr": ["value"], "ipv6-addr": ["value"], "file": ["hashes", "name"],
           "network-traffic": ["start", "end", "src_ref", "dst_ref", "src_port", "dst_port",
                               "protocols"]}
n_sco = 0
for o in objs:
    if o["type"] in contrib:
        n_sco += 1
        c = {k: o[k] for k in contrib[o["type"]] if k in o}
        text = json.dumps(c, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        want = o["type"] + "--" + str(uuid.uuid5(stix_ns, text))
        if o["id"] != want:
            bad("%s: id should be %s" % (o["id"], want))
if n_sco == 0:
    bad("no cyber-observable objects")

# Every reference resolves inside the bundle.
def refs(o):
    for k, v in o.items():
        if k.endswith("_ref"):
            yield v
        elif k.endswith("_refs"):
            yield from v
for o in objs:
    for r in refs(o):
        if r not in byid:
            bad("%s points at %s, not in the bundle" % (o["id"], r))

# TLP 2.0 markings: the official ids, exactly as published, and the packs' levels.
official = json.load(open(os.path.join(schemas, "tlp2.0", "markings.json")))
ext = official["extension_definition"]
level_id = {m["tlp_2_0"]: m["id"] for m in official["markings"]}
for o in objs:
    if o["type"] != "marking-definition":
        continue
    m = [m for m in official["markings"] if m["id"] == o["id"]]
    if not m:
        bad("marking %s is not an official TLP 2.0 id" % o["id"])
        continue
    want = {"type": "marking-definition", "spec_version": "2.1", "id": m[0]["id"],
            "created": "2022-10-01T00:00:00.000Z", "name": m[0]["name"],
            "extensions": {ext: {"extension_type": "property-extension", "tlp_2_0": m[0]["tlp_2_0"]}}}
    if o != want:
        bad("marking %s differs from the published object" % o["id"])

# Indicators, sightings and observed-data against the records.
ident = [o for o in objs if o["type"] == "identity"]
if len(ident) != 1 or ident[0]["identity_class"] != "organization":
    bad("one organisation identity expected")
inds = {}
for o in objs:
    if o["type"] == "indicator":
        inds[o["name"]] = o
        if o["created_by_ref"] != ident[0]["id"]:
            bad("indicator not created by the identity")
want = {}
for r in records:
    key = "%s: %s" % (r["indicator"]["pack"]["name"], r["indicator"]["id"])
    w = want.setdefault(key, {"count": 0, "tlp": r["tlp"], "ind": r["indicator"]})
    w["count"] += r.get("match", {}).get("count", 1)  # a rule's record counts once
if set(want) != set(inds):
    bad("indicators %s, records name %s" % (sorted(inds), sorted(want)))
sightings = {o["sighting_of_ref"]: o for o in objs if o["type"] == "sighting"}
for key, w in want.items():
    o = inds.get(key)
    if not o:
        continue
    s = sightings.get(o["id"])
    if not s:
        bad("no sighting of " + key)
        continue
    if s["count"] != w["count"]:
        bad("%s: sighting count %d, records %d" % (key, s["count"], w["count"]))
    if s["where_sighted_refs"] != [ident[0]["id"]] or not s["first_seen"] <= s["last_seen"]:
        bad(key + ": sighting fields")
    nobs = sum(byid[x]["number_observed"] for x in s.get("observed_data_refs", []))
    if nobs != w["count"]:
        bad("%s: observed-data number_observed adds to %d, not %d" % (key, nobs, w["count"]))
    mark = [level_id[w["tlp"]]]
    if o.get("object_marking_refs") != mark or s.get("object_marking_refs") != mark:
        bad("%s: marking should be TLP %s" % (key, w["tlp"]))
    t, v = w["ind"]["type"], w["ind"]["value"]
    esc = v.replace("\\", "\\\\").replace("'", "\\'")
    pat = {"domain": "[domain-name:value = '%s']", "url": "[url:value = '%s']",
           "email": "[email-addr:value = '%s']", "md5": "[file:hashes.'MD5' = '%s']",
           "sha1": "[file:hashes.'SHA-1' = '%s']", "sha256": "[file:hashes.'SHA-256' = '%s']"}
    if t in pat:
        if o["pattern"] != pat[t] % esc or o["pattern_type"] != "stix":
            bad("%s: pattern %s" % (key, o["pattern"]))
    elif t in ("combo", "window", "lookalike"):
        if o["pattern_type"] != "cybersieve-rule" or o["pattern"] != v:
            bad("%s: a rule is exported as written" % key)
    elif o["pattern_type"] != "pcre":
        bad("%s: %s indicators use pattern_type pcre" % (key, t))
    if t == "literal":
        import re
        if not re.fullmatch(o["pattern"], v):
            bad("%s: pcre %r does not match the literal %r" % (key, o["pattern"], v))

if run == "logs":
    if "TLP:RED" not in [o["name"] for o in objs if o["type"] == "marking-definition"]:
        bad("the csam test pack should bring TLP:RED")
    if ident[0]["name"] != "CERT Test":
        bad("identity name should be the operator")
    if not any(o["type"] == "file" and "MD5" in o.get("hashes", {}) for o in objs):
        bad("an md5 indicator should give a file with an MD5 hash")
else:
    nt = [o for o in objs if o["type"] == "network-traffic"]
    if not nt:
        bad("captures should give network-traffic objects")
    for o in nt:
        a, b = byid[o["src_ref"]], byid[o["dst_ref"]]
        if a["type"] not in ("ipv4-addr", "ipv6-addr") or "tcp" not in o["protocols"]:
            bad("network-traffic %s" % o["id"])
    flows = {(r["flow"]["src_ip"], r["flow"]["src_port"], r["flow"]["dest_ip"], r["flow"]["dest_port"])
             for r in records if "flow" in r}
    got = {(byid[o["src_ref"]]["value"], o["src_port"], byid[o["dst_ref"]]["value"], o["dst_port"])
           for o in nt}
    if flows != got:
        bad("network-traffic %s, records %s" % (sorted(got), sorted(flows)))
    if ident[0]["name"] != "tap-3":
        bad("identity name should fall back to the sensor id")
    if not any(o["type"] == "observed-data" and o["first_observed"].startswith("2013-") for o in objs):
        bad("observed-data should carry the packets' times")
for e in errors[:20]:
    print("   ", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
done

# A combination rule has no STIX pattern: it is exported as written, in the
# open vocabulary's own pattern type (the bundle validated above).
python3 - "$T/logs.json" "$CS_SRC/rules/scam-combos.pack" <<'PY' || fail "combo indicator in the bundle"
import json, sys
objs = json.load(open(sys.argv[1]))["objects"]
rule = [l.split(" ", 2)[2].strip() for l in open(sys.argv[2]) if l.startswith("sc-inv-0001 ")][0]
ind = [o for o in objs if o["type"] == "indicator" and o["name"] == "scam-combos: sc-inv-0001"]
assert len(ind) == 1, "no indicator for sc-inv-0001"
assert ind[0]["pattern_type"] == "cybersieve-rule", ind[0]
assert ind[0]["pattern"] == rule, (ind[0]["pattern"], rule)
assert any(o["type"] == "sighting" and o["sighting_of_ref"] == ind[0]["id"] for o in objs)
PY

# --identity names the organisation.
"$CS_BIN" export --format stix --identity "National CERT" "$T/pcap" >"$T/named.json" 2>/dev/null
expect_grep "identity option" "$T/named.json" '"name":"National CERT"'

# A folder that does not verify is refused, unless --no-verify.
cp -a "$T/logs" "$T/bad"
sed -i '1s/"seq":1/"seq":9/' "$T/bad/records.ndjson"
"$CS_BIN" export --format stix "$T/bad" >"$T/bad.json" 2>"$T/bad.err"
expect_rc "export of a tampered folder" 2 $?
expect_grep "refusal message" "$T/bad.err" "does not verify"
[ -s "$T/bad.json" ] && fail "a refused export wrote output"
"$CS_BIN" export --format stix --no-verify "$T/bad" >"$T/bad.json" 2>"$T/bad.err"
expect_rc "export --no-verify" 0 $?
expect_grep "no-verify warning" "$T/bad.err" "without verifying"
"$CS_BIN" export --format xml "$T/logs" >/dev/null 2>&1
expect_rc "unknown format" 2 $?
finish
