#!/usr/bin/env bash
# The long fuzz campaign: each harness fuzzes for SECONDS_PER_HARNESS over a corpus of its own
# that grows across campaigns (Fuzz/.campaign/corpus/<harness>, seeded from Fuzz/Corpus and
# git-ignored), restarting after each crash so one finding does not end the run. Writes a
# results file (executions, coverage, crashes per harness) and keeps every reproducer.
#
#   bash Fuzz/campaign.sh SECONDS_PER_HARNESS [HARNESS...]
#
# Environment: FUZZ_JOBS harnesses at a time (default 1); FUZZ_NICE (default 10) so that other
# work on the machine comes first; FUZZ_CAMPAIGN_DIR (default Fuzz/.campaign).
set -euo pipefail
source "$(dirname "$0")/common.sh"

if [[ $# -lt 1 || ! "$1" =~ ^[0-9]+$ ]]; then
    echo "usage: bash Fuzz/campaign.sh SECONDS_PER_HARNESS [HARNESS...]" >&2
    exit 2
fi
budget="$1"; shift
only=("$@")
jobs="${FUZZ_JOBS:-1}"
niceness="${FUZZ_NICE:-10}"
root="${FUZZ_CAMPAIGN_DIR:-$FUZZ_DIR/.campaign}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
run_dir="$root/$stamp"
results="$run_dir/results.md"
mkdir -p "$run_dir"

echo "fuzz campaign: building harnesses"
fuzz_build > "$run_dir/build.log" 2>&1 || { tail -50 "$run_dir/build.log"; exit 1; }

# One harness: libFuzzer runs until the budget is spent, restarted after each finding.
campaign_one() {
    local name="$1" dict="$2" max_len="$3"
    local bin corpus artifacts log summary started now left rc runs total_runs=0 restarts=0 crashes=0
    bin="$(fuzz_bin "$name")"
    corpus="$root/corpus/$name"; artifacts="$run_dir/artifacts/$name"; summary="$run_dir/$name.summary"
    mkdir -p "$corpus" "$artifacts"
    cp -Rn "$FUZZ_DIR/Corpus/$name/." "$corpus/" 2>/dev/null || true
    started=$(date +%s)
    local initial_corpus; initial_corpus=$(ls "$corpus" | wc -l)
    while true; do
        now=$(date +%s); left=$(( budget - (now - started) ))
        (( left >= 5 )) || break
        log="$run_dir/$name.$restarts.log"
        rc=0
        nice -n "$niceness" "$bin" "$corpus" -max_total_time="$left" -timeout=20 -rss_limit_mb=2048 -max_len="$max_len" \
            -dict="$FUZZ_DIR/Dictionaries/$dict" -artifact_prefix="$artifacts/" -print_final_stats=1 -reload=1 \
            > "$log" 2>&1 || rc=$?
        runs=$(fuzz_stat "$log" number_of_executed_units)
        if [[ -z "$runs" ]]; then  # no final stats after a crash: the last progress line's count
            runs=$(grep -aoE "^#[0-9]+" "$log" | tail -1 | tr -d '#')
        fi
        total_runs=$(( total_runs + ${runs:-0} ))
        (( rc == 0 )) && break
        crashes=$(( crashes + 1 )); restarts=$(( restarts + 1 ))
        # A crash while replaying the corpus would repeat forever: stop this harness.
        if ! grep -aq "INITED" "$log" || (( restarts >= 50 )); then break; fi
    done
    local elapsed=$(( $(date +%s) - started ))
    local last; last="$(ls -t "$run_dir/$name".*.log | head -1)"
    local first; first="$(ls "$run_dir/$name".*.log | head -1)"
    local cov ft
    cov=$(fuzz_last_progress "$last" cov); ft=$(fuzz_last_progress "$last" ft)
    local init_cov; init_cov=$(grep -a "INITED" "$first" | grep -aoE "cov: [0-9]+" | awk '{print $2}')
    local files; files=$(ls "$artifacts" | tr '\n' ' ')
    printf '| %s | %d | %d | %d | %s → %s | %s | %d → %d | %d | %s |\n' "$name" "$elapsed" "$total_runs" \
        $(( total_runs / (elapsed > 0 ? elapsed : 1) )) "${init_cov:-?}" "${cov:-?}" "${ft:-?}" "$initial_corpus" \
        "$(ls "$corpus" | wc -l)" "$crashes" "${files:-none}" > "$summary"
    cat "$summary"
}

selected=()
for entry in "${HARNESSES[@]}"; do
    read -r name _ _ <<< "$entry"
    if (( ${#only[@]} == 0 )) || [[ " ${only[*]} " == *" $name "* ]]; then selected+=("$entry"); fi
done

{
    echo "# Fuzz campaign $stamp"
    echo
    echo "$budget s per harness, $jobs at a time, nice $niceness; $(nproc) cores; $(swift --version 2>&1 | head -1)."
    echo "Commit $(git -C "$FUZZ_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')."
    echo
    echo "| harness | seconds | executions | exec/s | cov (start → end) | features | corpus | crashes | reproducers |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} > "$results"

running=0
for entry in "${selected[@]}"; do
    read -r name dict max_len <<< "$entry"
    campaign_one "$name" "$dict" "$max_len" &
    running=$(( running + 1 ))
    if (( running >= jobs )); then wait -n; running=$(( running - 1 )); fi
done
wait
for entry in "${selected[@]}"; do
    read -r name _ _ <<< "$entry"
    cat "$run_dir/$name.summary" >> "$results"
done
echo >> "$results"
echo "Reproducers: $run_dir/artifacts/<harness>/; logs: $run_dir/<harness>.<restart>.log" >> "$results"
echo "fuzz campaign: results in $results"
cat "$results"
