#!/bin/bash
# verify: a clean run verifies; each kind of tampering (a flipped byte, a
# dropped record, two records swapped, an edited manifest, another key) is
# caught and named; a run killed with -9 is reported unsealed with the prefix
# that still verifies; keygen + --key sign with a lasting key.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_init "$1" "$2"
T=$E2E_TMP
for i in $(seq 1 12); do printf 'line %d: pay the wire fee now\nnothing here\n' "$i"; done >"$T/in.log"

# verify_expect WHAT DIR RC TEXT [ARGS...]: verify DIR exits RC and says TEXT.
verify_expect() {
	local what=$1 dir=$2 want=$3 text=$4
	shift 4
	"$CS_BIN" verify "$dir" "$@" >"$T/v.out" 2>&1
	expect_rc "$what" "$want" "$?" || sed 's/^/    /' "$T/v.out" >&2
	expect_grep "$what" "$T/v.out" "$text"
}

# fresh NAME: a copy of the clean run.
fresh() {
	rm -rf "$T/$1"
	cp -a "$T/clean" "$T/$1"
}

"$CS_BIN" keygen "$T/keys" >"$T/keygen.out" 2>&1
expect_rc "keygen" 0 $?
[ "$(stat -c %a "$T/keys/cybersieve.key")" = 600 ] || fail "keygen: private key mode is not 0600"
"$CS_BIN" keygen "$T/keys" >/dev/null 2>&1 && fail "keygen overwrote an existing key"

cs_scan "$T/clean" -e 'literal:wire fee' --key "$T/keys/cybersieve.key" --operator "Unit 7" \
	--sensor-id ws-1 "$T/in.log"
expect_rc "scan" 0 "$CS_RC"
for f in records.ndjson manifest.json manifest.json.sig key.pub.pem summary.json; do
	[ -f "$T/clean/$f" ] || fail "scan did not write $f"
done
expect_grep "manifest operator" "$T/clean/manifest.json" '"operator":"Unit 7","sensor_id":"ws-1"'
expect_grep "manifest counts" "$T/clean/manifest.json" '"counts":{"records":12,"by_category":{"adhoc":12}}'
cmp -s "$T/clean/key.pub.pem" "$T/keys/cybersieve.pub.pem" || fail "key.pub.pem is not the --key's public half"

verify_expect "clean run" "$T/clean" 0 "verified: every check passed" --inputs
verify_expect "clean run, --pubkey" "$T/clean" 0 "verified" --pubkey "$T/keys/cybersieve.pub.pem"

fresh flip
sed -i '5s/wire fee/wire fez/' "$T/flip/records.ndjson"
verify_expect "flipped byte" "$T/flip" 1 "records.ndjson line 6 (seq 6): prev does not match the previous record"

fresh drop
sed -i '4d' "$T/drop/records.ndjson"
verify_expect "dropped record" "$T/drop" 1 "records.ndjson line 4 (seq 5): prev does not match the previous record"

fresh droplast
sed -i '$d' "$T/droplast/records.ndjson"
verify_expect "dropped last record" "$T/droplast" 1 "record count differs"

fresh swap
sed -i '3{h;d};4{G}' "$T/swap/records.ndjson"
verify_expect "swapped records" "$T/swap" 1 "records.ndjson line 3 (seq 4): prev does not match the previous record"

fresh badjson
sed -i '7s/}$/,/' "$T/badjson/records.ndjson"
verify_expect "broken JSON" "$T/badjson" 1 "records.ndjson line 7 (seq 0): not valid JSON"

fresh manifest
sed -i 's/"operator":"Unit 7"/"operator":"Unit 8"/' "$T/manifest/manifest.json"
verify_expect "edited manifest" "$T/manifest" 1 "manifest.json: signature does not verify"

fresh key
"$CS_BIN" keygen "$T/keys2" >/dev/null 2>&1
cp "$T/keys2/cybersieve.pub.pem" "$T/key/key.pub.pem"
verify_expect "swapped key" "$T/key" 1 "manifest.json: signature does not verify"
verify_expect "other --pubkey" "$T/clean" 1 "signature does not verify" --pubkey "$T/keys2/cybersieve.pub.pem"

# Re-signed with the other key: the signature holds, the fingerprint does not.
fresh resign
cp "$T/keys2/cybersieve.pub.pem" "$T/resign/key.pub.pem"
openssl pkeyutl -sign -inkey "$T/keys2/cybersieve.key" -rawin -in "$T/resign/manifest.json" \
	-out "$T/resign/manifest.json.sig" 2>/dev/null &&
	verify_expect "re-signed with another key" "$T/resign" 1 "is not that of the public key"

cp "$T/in.log" "$T/in2.log"
cs_scan "$T/inputs" -e 'literal:wire fee' "$T/in2.log"
echo "changed" >>"$T/in2.log"
verify_expect "changed input" "$T/inputs" 1 "in2.log: changed (sha256 differs)" --inputs

# Without --key: a one-off key, and a message saying so.
"$CS_BIN" scan --out "$T/oneoff" -e 'literal:wire fee' "$T/in.log" >/dev/null 2>"$T/oneoff.err"
expect_grep "one-off key message" "$T/oneoff.err" "one-off key"
verify_expect "one-off key run" "$T/oneoff" 0 "verified"

# kill -9 mid-run: the inputs before a FIFO that never ends are written, then the
# run is killed; verify reports the intact prefix as unsealed.
mkdir -p "$T/kin"
for i in $(seq 1 9); do printf 'wire fee %d\n' "$i" >"$T/kin/a$i.log"; done
mkfifo "$T/zz.fifo"
sleep 60 >"$T/zz.fifo" &
holder=$!
"$CS_BIN" scan -q --threads 1 --out "$T/killed" -e 'literal:wire fee' "$T/kin" "$T/zz.fifo" &
pid=$!
for _ in $(seq 1 50); do
	[ -f "$T/killed/records.ndjson" ] && [ "$(wc -l <"$T/killed/records.ndjson")" -ge 9 ] && break
	sleep 0.1
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
[ -f "$T/killed/manifest.json" ] && fail "a killed run left a manifest"
verify_expect "killed run" "$T/killed" 1 "unsealed: 9 records verify (chain intact up to records.ndjson line 9)"
printf '{"prev":"00' >>"$T/killed/records.ndjson"
verify_expect "killed run, torn last line" "$T/killed" 1 "unsealed: 9 records verify"
finish
