# Shared by every cli_test.sh (sourced): the vmref binary, the source tree, a scratch
# directory, and the two checks. A script ends with `finish`.
# Usage of a script: cli_test.sh VMREF SOURCE_DIR [FORMAT...]
set -u
V=$1; SRC=$2; shift 2; FORMATS=("$@")
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0
check() { # check NAME EXPECTED_RC CMD... ; stdout+stderr saved to $T/out
  local name=$1 want=$2; shift 2
  "$@" >"$T/out" 2>&1; local rc=$?
  if [ "$rc" -ne "$want" ]; then echo "FAIL $name: exit $rc, wanted $want"; cat "$T/out"; fails=$((fails+1)); else echo "ok   $name"; fi
}
contains() { # contains NAME TEXT FILE
  if grep -qF -- "$2" "$3"; then echo "ok   $1"; else echo "FAIL $1: '$2' not in $3"; cat "$3"; fails=$((fails+1)); fi
}
first() { ls "$@" 2>/dev/null | head -1; }  # first file of a glob, "" if none
finish() { echo "$fails failed"; [ "$fails" -eq 0 ]; }
