#!/bin/sh
# Fuzzes every target of fuzz/ with libFuzzer (Debian's clang) for a set time each, starting
# from the committed seed corpus; new inputs collect in build-fuzz/corpus/<target> (reused by
# the next run), crashes in build-fuzz/crashes/<target>. Prints one line per target; record the
# hours and findings in docs/fuzzing.md.
#
#   sh bench/run_fuzz.sh [SECONDS_PER_TARGET=300] [TARGET...]
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-300}
[ $# -gt 0 ] && shift
targets=${*:-"http_request json_body zip query_form filter_pattern sigv4 edge"}
jobs=$(nproc)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DLAMBENT_FUZZ=ON -DLAMBENT_TESTS=OFF >/dev/null
for t in $targets; do
  cmake --build build-fuzz -j"$jobs" --target "fuzz_$t" >/dev/null
done
for t in $targets; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
  log="build-fuzz/fuzz_$t.log"
  set +e
  "build-fuzz/bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/crashes/$t/" \
    "build-fuzz/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  crashes=$(ls "build-fuzz/crashes/$t" | wc -l)
  echo "$t: ${seconds}s, ${runs} runs, coverage ${cov} edges, exit ${rc}, ${crashes} crash file(s)"
done
