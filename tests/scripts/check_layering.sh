#!/usr/bin/env bash
# STYLE.md rule 1: includes only point down the layer stack
# util < dns < table < zone < feed < mesh < keys < gate < server (the DNS front end) < daemon
# (the process) < bench (the tools library). Fails listing offenders.
set -u
root=${1:-.}
layers=(util dns table zone feed mesh keys gate server daemon bench)
bad=0
for i in "${!layers[@]}"; do
  layer=${layers[$i]}
  higher=("${layers[@]:$((i + 1))}")
  [ ${#higher[@]} -eq 0 ] && continue
  pattern=$(IFS='|'; echo "${higher[*]}")
  for dir in "$root/src/$layer" "$root/include/meshbl/$layer"; do
    [ -d "$dir" ] || continue
    if hits=$(grep -rnE "#include \"(meshbl/)?($pattern)/" "$dir"); then
      echo "layer '$layer' includes a higher layer:"; echo "$hits"; bad=1
    fi
  done
done
[ $bad -eq 0 ] && echo "layering ok"
exit $bad
