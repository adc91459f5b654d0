#!/usr/bin/env bash
# STYLE.md rule 15: every C++ source is clang-formatted (.clang-format at the
# root). Skips, with a message, when clang-format is not installed.
set -u
root=${1:-.}
cd "$root" || exit 1
cf=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$cf" ]; then
  echo "clang-format not installed: format check skipped"
  exit 0
fi
files=$(git ls-files '*.cc' '*.h' 2>/dev/null || find src include tools tests bench fuzz -name '*.cc' -o -name '*.h')
if ! "$cf" --dry-run -Werror $files; then
  echo "run: clang-format -i \$(git ls-files '*.cc' '*.h')"
  exit 1
fi
echo "format ok: $(echo $files | wc -w) files"
