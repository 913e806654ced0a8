#!/usr/bin/env bash
# Proves the seam purity check fails on a planted violation (threads, wall clock, rand, raw file
# calls, socket calls in node/) and passes on clean code that only names those things in comments and strings.
set -uo pipefail
check=${1:?check script}
fixtures=${2:?fixtures dir}

out=$("$check" "$fixtures/planted" node)
rc=$?
[[ $rc -eq 1 ]] || { echo "FAIL: planted violation exited $rc, want 1"; exit 1; }
for reason in "threads and locks" "wall and steady clocks" "randomness" "raw file calls" "sockets"; do
  grep -q "$reason" <<<"$out" || { echo "FAIL: no '$reason' finding in:"; echo "$out"; exit 1; }
done
"$check" "$fixtures/clean" node || { echo "FAIL: clean fixture rejected"; exit 1; }
echo "planted violations detected; clean fixture accepted"
