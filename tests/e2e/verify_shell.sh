#!/bin/sh
# Check a cybersieve evidence folder with standard tools alone (docs/EVIDENCE.md):
#   sh verify_shell.sh DIR     exit 0 when the signature, every chain link, each
# file's sha256 and the chain head agree with the signed manifest.
set -u
d=$1
openssl pkeyutl -verify -pubin -inkey "$d/key.pub.pem" -rawin \
	-in "$d/manifest.json" -sigfile "$d/manifest.json.sig" >/dev/null || { echo "bad signature"; exit 1; }
run=$(grep -o '"run_id":"[^"]*"' "$d/manifest.json" | head -n 1 | cut -d'"' -f4)
entries=$(grep -o '"name":"records[-0-9]*\.ndjson","records":[0-9]*,"bytes":[0-9]*,"sha256":"[0-9a-f]*","genesis":"[0-9a-f]*","chain_head":"[0-9a-f]*"' "$d/manifest.json")
[ -n "$entries" ] || { echo "no files in the manifest"; exit 1; }
head=
for e in $entries; do
	f=$(echo "$e" | cut -d'"' -f4)
	n=$(echo "$e" | sed 's/.*"records":\([0-9]*\).*/\1/')
	sum=$(echo "$e" | sed 's/.*"sha256":"\([0-9a-f]*\)".*/\1/')
	head=$(printf 'cybersieve-chain-v1:%s:%s' "$run" "$f" | sha256sum | cut -c1-64)
	[ "$(sha256sum <"$d/$f" | cut -c1-64)" = "$sum" ] || { echo "$f: sha256 differs"; exit 1; }
	i=0
	while IFS= read -r line; do
		i=$((i + 1))
		[ "$(printf '%s' "$line" | cut -c10-73)" = "$head" ] || { echo "$f line $i: bad link"; exit 1; }
		head=$(printf '%s\n' "$line" | sha256sum | cut -c1-64)
	done <"$d/$f"
	[ "$i" = "$n" ] || { echo "$f: $i records, manifest says $n"; exit 1; }
	[ "$(echo "$e" | sed 's/.*"chain_head":"\([0-9a-f]*\)".*/\1/')" = "$head" ] || { echo "$f: head differs"; exit 1; }
done
[ "$(grep -o '"chain_head":"[0-9a-f]*","complete"' "$d/manifest.json" | cut -d'"' -f4)" = "$head" ] ||
	{ echo "chain head differs"; exit 1; }
echo "verified"
