#!/usr/bin/env bash
# kcat 1.7.1 (librdkafka 2.0.2) against Gregor: -L metadata names this broker; 10,000 keyed
# messages produced with acks=all and enable.idempotence=true come back exactly, in order.
# Run through with_broker.sh (needs $BROKER).
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kcat -b "$BROKER" -L >"$work/metadata.txt"
grep -q "broker 0 at $BROKER" "$work/metadata.txt" || { cat "$work/metadata.txt"; exit 1; }
for i in $(seq 1 10000); do echo "key-$((i % 17)):value-$i"; done >"$work/in.txt"
kcat -b "$BROKER" -P -t kcat-roundtrip -K: -X acks=all -X enable.idempotence=true <"$work/in.txt"
kcat -b "$BROKER" -C -t kcat-roundtrip -o beginning -e -q -K: -f '%k:%s\n' >"$work/out.txt"
if ! cmp -s "$work/in.txt" "$work/out.txt"; then
  echo "consumed $(wc -l <"$work/out.txt") lines; first difference:"
  diff "$work/in.txt" "$work/out.txt" | head -5
  exit 1
fi
kcat -b "$BROKER" -L -t kcat-roundtrip | grep -q "partition 0, leader 0" || exit 1
echo "kcat ok: 10000 messages in order"
