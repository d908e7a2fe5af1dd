#!/usr/bin/env bash
# Sanitizer run of the test suite: hbmmm built with AddressSanitizer and
# UBSan, and with R_alloc() replaced by guarded malloc blocks
# (src/hb_guarded_alloc.h), so that a write outside any scratch buffer stops
# the run at the faulting line instead of corrupting R's heap silently.
#
#   bash tools/sanitize.sh            # the whole suite
#   bash tools/sanitize.sh "fuzz|nuts" # test files matching a pattern
#
# Prints the suite's closing line; exits non-zero on a failed test or on any
# sanitizer report (which aborts R). Needs gcc with libasan and libubsan.
set -euo pipefail
cd "$(dirname "$0")/.."
lib=$(mktemp -d)
mk=$(mktemp)
trap 'rm -rf "$lib" "$mk"' EXIT
cat > "$mk" <<MK
CFLAGS = -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DHB_GUARDED_ALLOC
LDFLAGS = -fsanitize=address,undefined
MK
R_MAKEVARS_USER="$mk" R CMD INSTALL --preclean --no-test-load -l "$lib" . > "$lib/install.log" 2>&1 ||
  { tail -n 30 "$lib/install.log"; exit 1; }
rm -f src/*.o src/*.so
grep -q HB_GUARDED_ALLOC "$lib/install.log" || { echo "the sanitizer flags were not used"; exit 1; }
asan=$(gcc -print-file-name=libasan.so)
# R's own code is not instrumented and leaks by design: no leak checks
LD_PRELOAD="$asan" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  R_LIBS="$lib" Rscript tools/test.R "$@"
