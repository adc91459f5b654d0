#!/usr/bin/env bash
# STYLE.md rule 4: per-packet translation units (MESHBL_HOT_SOURCES in the
# root CMakeLists.txt) construct no Status, no std::string, throw nothing and
# call no operator new.
set -u
root=${1:-.}
srcs=$(sed -n '/^set(MESHBL_HOT_SOURCES/,/^)/p' "$root/CMakeLists.txt" | grep -E '^\s+src/' | tr -d ' ')
[ -n "$srcs" ] || { echo "MESHBL_HOT_SOURCES not found"; exit 1; }
bad=0
for f in $srcs; do
  [ -f "$root/$f" ] || { echo "not present yet: $f"; continue; }
  if hits=$(grep -nE 'absl::Status|std::string[^_v]|std::vector|throw |new |malloc\(' "$root/$f" | grep -v '^\s*//'); then
    echo "$f breaks the hot-path rules:"; echo "$hits"; bad=1
  fi
done
[ $bad -eq 0 ] && echo "hot path ok: $(echo $srcs | wc -w) files"
exit $bad
