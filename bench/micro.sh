#!/usr/bin/env bash
# Runs every benchmark behind a performance target in one go and summarizes
# each with benchstat: the core beside golang-jwt, minting beside verifying,
# the REST cache beside local verification, the Caddy handler beside a bare
# handler, and the Traefik plugin under Yaegi beside the compiled plugin and
# golang-jwt under Yaegi.
#
# Usage, from the repository root:
#
#   bash bench/micro.sh [COUNT]
#
# COUNT is the number of runs of each benchmark (default 6). The raw output
# goes to bench/out/, which git ignores. benchstat is installed from the Go
# module proxy when it is missing. With the default count it takes about
# five minutes on two cores; nothing leaves the machine.
set -euo pipefail

count="${1:-6}"
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"

if ! command -v benchstat >/dev/null 2>&1; then
	go install golang.org/x/perf/cmd/benchstat@latest
	PATH="$(go env GOPATH)/bin:$PATH"
fi

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(go version), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

run() {
	local name="$1" dir="$2" pattern="$3" package="$4"
	(cd "$dir" && go test -run '^$' -bench "$pattern" -benchmem -count "$count" "$package") >"$out/$name.txt"
}

run core . '^(BenchmarkVerify|BenchmarkMint)$' ./tokencore
run rest . '^BenchmarkVerifyToken$' ./tokencore
run caddy . '^BenchmarkHandler$' ./caddymodule
run traefik test '^BenchmarkValidatedRequest$' ./traefiktest

echo
echo "## Core: verify plus policy and mint, beside golang-jwt"
benchstat -col /impl "$out/core.txt"
echo
echo "## REST cache hit beside local verification"
benchstat -col /verifier "$out/rest.txt"
echo
echo "## Caddy handler"
benchstat "$out/caddy.txt"
echo
echo "## Traefik plugin"
benchstat -col /impl "$out/traefik.txt"
