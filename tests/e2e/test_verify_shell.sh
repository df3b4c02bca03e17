#!/bin/bash
# The receiver's check with standard tools alone (tests/e2e/verify_shell.sh, the
# same commands as docs/EVIDENCE.md and README.md): passes on a clean run, fails
# on a flipped byte, a dropped record and an edited manifest.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_init "$1" "$2"
command -v openssl >/dev/null 2>&1 || { echo "SKIP: openssl not found" >&2; exit 77; }
T=$E2E_TMP
for i in $(seq 1 8); do printf 'pay the wire fee %d\n' "$i"; done >"$T/in.log"
cs_scan "$T/clean" -e 'literal:wire fee' "$T/in.log"
expect_rc "scan" 0 "$CS_RC"

check() {
	sh "$here/verify_shell.sh" "$2" >"$T/sh.out" 2>&1
	expect_rc "$1" "$3" "$?" || sed 's/^/    /' "$T/sh.out" >&2
	[ -n "${4:-}" ] && expect_grep "$1" "$T/sh.out" "$4"
}
check "clean run" "$T/clean" 0 "verified"

cp -a "$T/clean" "$T/flip"
sed -i '3s/wire fee/wire fez/' "$T/flip/records.ndjson"
check "flipped byte" "$T/flip" 1 "sha256 differs"
cp -a "$T/clean" "$T/drop"
sed -i '2d' "$T/drop/records.ndjson"
check "dropped record" "$T/drop" 1

cp -a "$T/clean" "$T/edit"
sed -i 's/"complete":true/"complete":false/' "$T/edit/manifest.json"
check "edited manifest" "$T/edit" 1 "bad signature"

# The chain loop itself: a manifest re-signed over a tampered file (as a forger
# holding the key could) still fails on the broken link.
openssl genpkey -algorithm ed25519 -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/flip/key.pub.pem" 2>/dev/null
sum=$(sha256sum <"$T/flip/records.ndjson" | cut -c1-64)
sed -i "s/\"sha256\":\"[0-9a-f]*\",\"genesis\"/\"sha256\":\"$sum\",\"genesis\"/" "$T/flip/manifest.json"
openssl pkeyutl -sign -inkey "$T/k.pem" -rawin -in "$T/flip/manifest.json" -out "$T/flip/manifest.json.sig"
check "tampered record, re-signed manifest" "$T/flip" 1 "records.ndjson line 4: bad link"
finish
