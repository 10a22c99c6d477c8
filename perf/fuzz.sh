#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, through cargo fuzz) of the parsers of files people
# hand to samskap: survey files, the service catalogue CSV, respondent lists and
# samskap.toml. The targets and their checks are in fuzz/ (fuzz/src/lib.rs).
#
#   perf/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 300 s, every target
#
# Runs on the stable toolchain: `cargo fuzz build --sanitizer none` passes rustc only
# stable flags (-Cpasses=sancov-module and -Cllvm-args). samskap forbids unsafe code, so
# AddressSanitizer would only watch the bundled C libraries, which no target reaches;
# FUZZ_SANITIZER=address turns it on anyway, with RUSTC_BOOTSTRAP=1 for -Zsanitizer.
# The build is a release build with debug assertions and overflow checks, instrumented,
# in fuzz/target (its own, since every crate is built with coverage instrumentation).
#
# Each target runs for the set time, one after the other (one process, one core each),
# starting from the committed corpus (fuzz/corpus/TARGET) and the inputs kept as
# regression tests (fuzz/regressions/TARGET); new inputs go to fuzz/target/corpus/TARGET,
# outside git. FUZZ_KEEP=1 then merges them into fuzz/corpus/TARGET, keeping only inputs
# that reach code the corpus does not (libFuzzer's -merge=1, as `cargo fuzz cmin` does,
# with -use_counters=0 so that an input is kept for a new branch and not for running a
# loop more often, and -max_len so that the committed corpus stays small).
#
# Inputs are at most FUZZ_MAX_LEN bytes (default 8192). A crash, panic, timeout
# (FUZZ_TIMEOUT seconds for one input, default 10) or running out of memory stops that
# target; the script exits 1 after the others have run, naming the input. Replay it with
#   cargo fuzz run --sanitizer none TARGET fuzz/artifacts/TARGET/crash-…
# fix the parser, move the input to fuzz/regressions/TARGET/ (replayed by
# `cargo test --test api fuzz_regressions`, with the same checks) and run again.
#
# A clean build compiles every dependency, polars included, with coverage instrumentation
# and one codegen unit: about half an hour on a two-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-300}
shift || true
SANITIZER=${FUZZ_SANITIZER:-none}
TIMEOUT=${FUZZ_TIMEOUT:-10}
# Longer inputs mostly repeat what shorter ones reach, at a fraction of the speed: the
# 30 kB shipped survey file runs at a few hundred executions a second.
MAX_LEN=${FUZZ_MAX_LEN:-8192}
CARGO_FUZZ_VERSION=0.13.2

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
if [ "$SANITIZER" != none ]; then
  export RUSTC_BOOTSTRAP=1
fi
FUZZ=(cargo fuzz)
BUILD=(--sanitizer "$SANITIZER")

if [ "$#" -gt 0 ]; then
  TARGETS=("$@")
else
  mapfile -t TARGETS < <("${FUZZ[@]}" list)
fi

start=$(date +%s)
if [ "${#TARGETS[@]}" -eq 1 ]; then
  "${FUZZ[@]}" build "${BUILD[@]}" "${TARGETS[0]}"
else
  "${FUZZ[@]}" build "${BUILD[@]}"
fi
echo "fuzz build: $(( $(date +%s) - start )) s"

failed=()
for target in "${TARGETS[@]}"; do
  work=fuzz/target/corpus/$target
  log=fuzz/target/logs/$target.log
  mkdir -p "$work" "$(dirname "$log")" "fuzz/artifacts/$target"
  seeds=("fuzz/corpus/$target")
  [ -d "fuzz/regressions/$target" ] && seeds+=("fuzz/regressions/$target")
  dict=()
  [ -f "fuzz/dict/$target.dict" ] && dict=("-dict=fuzz/dict/$target.dict")
  echo "== $target: $SECONDS_PER_TARGET s"
  set +e
  "${FUZZ[@]}" run "${BUILD[@]}" "$target" "$work" "${seeds[@]}" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" -max_len="$MAX_LEN" \
    -print_final_stats=1 "${dict[@]}" 2>&1 | tee "$log" | grep -E '^(INFO: seed corpus|#[0-9]+[[:space:]]+(INITED|DONE))|ERROR|panicked|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)'
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    input=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1 | cut -d' ' -f5- || true)
    echo "!! $target failed (exit $status); input: ${input:-see $log}" >&2
    failed+=("$target${input:+ ($input)}")
  elif [ "${FUZZ_KEEP:-0}" = 1 ]; then
    "${FUZZ[@]}" run "${BUILD[@]}" "$target" "fuzz/corpus/$target" "$work" -- \
      -merge=1 -use_counters=0 -max_len="$MAX_LEN" 2>&1 |
      grep -E '^MERGE-OUTER: [0-9]+ new files' || true
  fi
done

echo "fuzzing took $(( $(date +%s) - start )) s in all"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "no crash in ${TARGETS[*]}"
