#!/usr/bin/env bash
# Fuzz smoke run for CI: builds the harnesses (release, libFuzzer + ASan), replays the fixed
# crashers in Fuzz/Crashers/, then fuzzes each harness for a fixed time over a copy of its
# committed corpus (the repository is never written), and prints one line per harness.
# Exits non-zero on any crash, invariant failure, timeout or out-of-memory.
#
#   bash Fuzz/smoke.sh [SECONDS_PER_HARNESS]      (default 20, or $FUZZ_SMOKE_SECONDS)
#
# Findings are kept in $FUZZ_ARTIFACTS (default: a temporary folder, named in the output).
set -euo pipefail
source "$(dirname "$0")/common.sh"

seconds="${1:-${FUZZ_SMOKE_SECONDS:-20}}"
work="$(mktemp -d "${TMPDIR:-/tmp}/swift-glm-fuzz-smoke.XXXXXX")"
artifacts="${FUZZ_ARTIFACTS:-$work/artifacts}"
mkdir -p "$artifacts"
start=$(date +%s)

echo "fuzz smoke: building harnesses (release, -sanitize=fuzzer,address)"
if ! fuzz_build > "$work/build.log" 2>&1; then
    tail -50 "$work/build.log"
    echo "fuzz smoke: build failed" >&2
    exit 1
fi
built=$(date +%s)
echo "fuzz smoke: built in $((built - start)) s; ${seconds} s per harness; work folder $work"

failed=0
passed=0
for entry in "${HARNESSES[@]}"; do
    read -r name dict max_len <<< "$entry"
    bin="$(fuzz_bin "$name")"
    log="$work/$name.log"
    mkdir -p "$work/corpus/$name" "$artifacts/$name"
    cp -R "$FUZZ_DIR/Corpus/$name/." "$work/corpus/$name/"

    # Regressions first: fixed crashers must stay fixed.
    mapfile -t files < <(find "$FUZZ_DIR/Crashers/$name" -type f ! -name '*.md' 2>/dev/null | sort)
    regressions=${#files[@]}
    if (( regressions )) && ! "$bin" -timeout=10 -rss_limit_mb=2048 "${files[@]}" > "$work/$name.regressions.log" 2>&1; then
        tail -40 "$work/$name.regressions.log"
        echo "fuzz $name: FAILED: a crasher in Fuzz/Crashers/$name crashes again"
        failed=1
        continue
    fi

    rc=0
    "$bin" "$work/corpus/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
        -dict="$FUZZ_DIR/Dictionaries/$dict" -artifact_prefix="$artifacts/$name/" -print_final_stats=1 \
        > "$log" 2>&1 || rc=$?
    runs=$(fuzz_stat "$log" number_of_executed_units); runs=${runs:-0}
    cov=$(fuzz_last_progress "$log" cov); ft=$(fuzz_last_progress "$log" ft)
    corpus=$(ls "$work/corpus/$name" | wc -l)
    if (( rc != 0 )); then
        grep -aE "ERROR:|invariant failed|Fatal error|SUMMARY" "$log" | head -5 || true
        tail -30 "$log"
        echo "fuzz $name: FAILED (exit $rc) after $runs runs; reproducer: $(ls "$artifacts/$name" | head -1) in $artifacts/$name"
        failed=1
    else
        passed=$((passed + 1))
        echo "fuzz $name: ok, $runs runs in ${seconds} s, cov ${cov:-?}, ft ${ft:-?}, corpus $corpus, regressions $regressions"
    fi
done

echo "fuzz smoke: $(( $(date +%s) - start )) s in all"
echo "fuzz: $passed passed, $(( ${#HARNESSES[@]} - passed )) failed"
if (( failed )); then
    echo "fuzz smoke: FAILED (logs and reproducers in $work)" >&2
    exit 1
fi
rm -rf "$work/corpus"
echo "fuzz smoke: passed"
