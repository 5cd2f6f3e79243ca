# Shared by smoke.sh and campaign.sh (sourced, not run): the harness list, their libFuzzer
# options, and the instrumented build.

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# harness  dictionary  max_len
HARNESSES=(
    "FuzzJSON            json.dict         4096"
    "FuzzSchema          schema.dict       2048"
    "FuzzTemplateRender  render.dict       4096"
    "FuzzTemplateSource  jinja.dict        4096"
    "FuzzSafetensors     safetensors.dict  4096"
    "FuzzGGUF            gguf.dict         8192"
    "FuzzOutputParsers   glm.dict          2048"
    "FuzzRequests        requests.dict     4096"
)

# Swift objects keep enum tags in pointer spare bits, which LeakSanitizer cannot follow: it
# reports long-lived values (a harness's parsed templates) as leaks. Leaks are off; growth
# still ends a run through -rss_limit_mb / -malloc_limit_mb.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:handle_abort=1:symbolize=1}"
# Swift's own crash backtracer faults under ASan; libFuzzer prints the stack instead.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

# libFuzzer and ASan ship with the Swift toolchain (compiler-rt under usr/lib/clang), and so
# does lld; gold fails to link SwiftPM's renamed `main` next to libFuzzer's.
fuzz_check_toolchain() {
    local swiftc
    swiftc="$(command -v swiftc || true)"
    if [[ -z "$swiftc" ]]; then echo "fuzz: swiftc not found on PATH" >&2; return 1; fi
    local root
    root="$(dirname "$(dirname "$(readlink -f "$swiftc")")")"
    if ! ls "$root"/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 \
        && ! ls "$root"/lib/clang/*/lib/linux/libclang_rt.fuzzer-aarch64.a >/dev/null 2>&1; then
        echo "fuzz: libFuzzer (libclang_rt.fuzzer) not found under $root/lib/clang" >&2
        return 1
    fi
    if [[ ! -x "$root/bin/ld.lld" ]] && ! command -v ld.lld >/dev/null; then
        echo "fuzz: ld.lld not found (it ships with the Swift toolchain in $root/bin)" >&2
        return 1
    fi
}

# Release build with coverage-guided fuzzing and AddressSanitizer over every Swift target.
fuzz_build() {
    fuzz_check_toolchain
    swift build --package-path "$FUZZ_DIR" -c release \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld "$@"
}

fuzz_bin() { echo "$FUZZ_DIR/.build/release/$1"; }

# "key: value" from libFuzzer's -print_final_stats / progress lines of a log.
fuzz_stat() {  # LOG KEY
    grep -a "^stat::$2:" "$1" | tail -1 | awk '{print $2}'
}
fuzz_last_progress() {  # LOG FIELD (cov|ft|corp)
    grep -aoE "$2: [0-9]+" "$1" | tail -1 | awk '{print $2}'
}
