#!/usr/bin/env bash
# Measures the project's Caddy under load on loopback: a bare route, a route
# behind daily_token validation and a route behind daily_token mint, each
# driven with wrk. Prints requests/s, p50, p99 and Caddy's CPU time per
# request for each route, the ratios validate/bare and mint/bare, and how
# much CPU time other processes took during each measurement.
#
# Usage, from the repository root:
#
#   bash bench/load.sh [--rounds N] [--duration SECONDS] [--warmup SECONDS]
#                      [--threads N] [--connections N] [--pin] [--profile DIR]
#
#   --rounds N          measure the three routes N times, interleaved (default 2)
#   --duration SECONDS  length of each measured wrk run (default 10)
#   --warmup SECONDS    unmeasured wrk run before each measurement (default 2)
#   --threads N         wrk threads (default 1)
#   --connections N     wrk connections (default 16)
#   --pin               run Caddy on CPU 0 and wrk on CPU 1 (taskset), so
#                       they do not compete for one core
#   --profile DIR       afterwards, load the bare and the validating route
#                       again and write 10-second CPU profiles of Caddy to
#                       DIR/bare.pprof and DIR/validate.pprof
#
# It builds ./cmd/caddy into a temporary directory, installs wrk with
# apt-get when it is missing, and talks only to 127.0.0.1. Caddy and the
# temporary directory are removed on exit. With the defaults it runs for
# about 75 seconds after the build, and --profile adds about 30. It is a
# tool, which neither go test nor .ci/run runs.
set -euo pipefail

rounds=2
duration=10
warmup=2
threads=1
connections=16
pin=false
profile=""
profile_seconds=10

usage() {
	awk '/^# Usage/ { printing = 1 } /^# It builds/ { exit } printing { sub(/^# ?/, ""); print }' "$0" >&2
	exit 2
}

while [[ $# -gt 0 ]]; do
	case "$1" in
	--rounds) rounds="${2:?--rounds needs a number}"; shift 2 ;;
	--duration) duration="${2:?--duration needs seconds}"; shift 2 ;;
	--warmup) warmup="${2:?--warmup needs seconds}"; shift 2 ;;
	--threads) threads="${2:?--threads needs a number}"; shift 2 ;;
	--connections) connections="${2:?--connections needs a number}"; shift 2 ;;
	--pin) pin=true; shift ;;
	--profile) profile="${2:?--profile needs a directory}"; shift 2 ;;
	-h | --help) usage ;;
	*) echo "load.sh: unknown argument $1" >&2; usage ;;
	esac
done
for value in "$rounds" "$duration" "$threads" "$connections"; do
	if ! [[ "$value" =~ ^[1-9][0-9]*$ ]]; then
		echo "load.sh: $value is not a positive whole number" >&2
		exit 2
	fi
done
if ! [[ "$warmup" =~ ^[0-9]+$ ]]; then
	echo "load.sh: --warmup $warmup is not a whole number of seconds" >&2
	exit 2
fi
if [[ -n "$profile" ]]; then
	mkdir -p "$profile"
	profile="$(realpath "$profile")"
fi

cd "$(dirname "$0")/.."

tmpdir="$(mktemp -d "${TMPDIR:-/tmp}/dailytoken-load.XXXXXX")"
caddy_pid=""
wrk_pid=""

cleanup() {
	if [[ -n "$wrk_pid" ]]; then
		kill "$wrk_pid" 2>/dev/null || true
		wait "$wrk_pid" 2>/dev/null || true
	fi
	if [[ -n "$caddy_pid" ]]; then
		kill "$caddy_pid" 2>/dev/null || true
		wait "$caddy_pid" 2>/dev/null || true
	fi
	rm -rf "$tmpdir"
}
trap cleanup EXIT

# fail prints the message and Caddy's log, then exits.
fail() {
	echo "load.sh: $*" >&2
	if [[ -s "$tmpdir/caddy.log" ]]; then
		echo "--- last lines of the Caddy log:" >&2
		tail -n 20 "$tmpdir/caddy.log" >&2
	fi
	exit 1
}

# free_port prints a port on 127.0.0.1 that nothing listens on. Another
# process may still take it before Caddy binds it. Caddy then fails to start
# and the script reports that.
free_port() {
	local port
	for _ in $(seq 50); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	fail "found no free port on 127.0.0.1 in 50 tries"
}

# install wrk if it is missing
if ! command -v wrk >/dev/null; then
	echo "installing wrk with apt-get" >&2
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2; then
		apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2
	fi
fi
command -v curl >/dev/null || fail "curl is missing. Install it with apt-get install curl"

# build Caddy with the module
echo "building ./cmd/caddy" >&2
go build -o "$tmpdir/caddy" ./cmd/caddy

caddy_pinning=()
wrk_pinning=()
if $pin; then
	[[ "$(nproc)" -ge 2 ]] || fail "--pin needs at least 2 CPUs, this machine has $(nproc)"
	caddy_pinning=(taskset -c 0)
	wrk_pinning=(taskset -c 1)
fi

# The key exists only for this run. It signs the token below, which wrk
# sends and which therefore shows in the process list while wrk runs.
key="$(head -c 32 /dev/urandom | base64)"
port="$(free_port)"
admin="off"
if [[ -n "$profile" ]]; then
	admin="127.0.0.1:$(free_port)"
fi
base="http://127.0.0.1:$port"

# start Caddy, with its data and config directories in the temporary one
DAILYTOKEN_BENCH_PORT="$port" DAILYTOKEN_BENCH_KEY="$key" DAILYTOKEN_BENCH_ADMIN="$admin" \
	XDG_DATA_HOME="$tmpdir/data" XDG_CONFIG_HOME="$tmpdir/config" \
	"${caddy_pinning[@]}" "$tmpdir/caddy" run --config bench/load.Caddyfile --adapter caddyfile \
	>"$tmpdir/caddy.log" 2>&1 &
caddy_pid=$!

# wait until Caddy responds, for at most 10 seconds
for attempt in $(seq 100); do
	if curl -s -o /dev/null --max-time 1 "$base/bare/hello"; then
		break
	fi
	kill -0 "$caddy_pid" 2>/dev/null || fail "Caddy exited while starting"
	[[ "$attempt" -lt 100 ]] || fail "Caddy did not respond on $base within 10 seconds"
	sleep 0.1
done

# mint a token for the room of the validating route, valid beyond the run
token="$(DAILYTOKEN_BENCH_KEY="$key" "$tmpdir/caddy" daily-token mint \
	--key-env DAILYTOKEN_BENCH_KEY --room hello --user-id bench-user --lifetime 1h)"

# status prints the status code of a GET request to the path.
status() {
	curl -s -o /dev/null --max-time 5 -w '%{http_code}' "${@:2}" "$base$1"
}

# check that each route does its job before measuring it
[[ "$(status /bare/hello)" == 200 ]] || fail "/bare/hello did not respond with 200"
[[ "$(status /validate/hello -H "Authorization: Bearer $token")" == 200 ]] ||
	fail "/validate/hello with a valid token did not respond with 200"
[[ "$(status /validate/hello)" == 401 ]] || fail "/validate/hello without a token did not respond with 401"
[[ "$(status /validate/other -H "Authorization: Bearer $token")" == 403 ]] ||
	fail "/validate/other with a token for room hello did not respond with 403"
[[ "$(status /mint/hello)" == 200 ]] || fail "/mint/hello did not respond with 200"

# Every route gets the same request, token included, so that the bytes
# Caddy parses are the same and only the handler differs.
wrk_options=(-t"$threads" -c"$connections" --latency -H "Authorization: Bearer $token")

# run_wrk runs wrk on the path for the given seconds and prints its output.
run_wrk() {
	timeout $(($2 + 30)) "${wrk_pinning[@]}" wrk "${wrk_options[@]}" -d"$2s" "$base$1"
}

# stat_ticks prints the sum of two fields of /proc/PID/stat, in clock
# ticks: 14 and 15 for the CPU time of the process (user and system), or
# 16 and 17 for that of its children that have exited and been waited for.
stat_ticks() {
	awk -v first="$2" '{ sub(/^.*\) /, ""); split($0, field, " "); print field[first - 2] + field[first - 1] }' \
		"/proc/$1/stat"
}

# busy_ticks prints the CPU time of the whole machine outside idle and I/O
# wait, in clock ticks, from the cpu line of /proc/stat.
busy_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
clock_ticks="$(getconf CLK_TCK)"
cpus="$(getconf _NPROCESSORS_ONLN)"

# measure warms the route up, measures it and prints "requests/s p50 p99
# cpu others". The latencies are in milliseconds. cpu is Caddy's CPU time
# per request in microseconds, and others the CPU time of all processes
# but Caddy and wrk, in percent of the machine. cpu counts Caddy's process
# alone, so unlike requests/s it does not drop when other processes take
# CPU time from Caddy or wrk. It still varies with how many requests each
# read and write system call carries.
measure() {
	local path=$1 output self=$BASHPID
	local caddy_before caddy_after wrk_before wrk_after busy_before busy_after
	if [[ "$warmup" -gt 0 ]]; then
		run_wrk "$path" "$warmup" >/dev/null
	fi

	# wrk's time reaches the children fields of this subshell, self, when
	# the subshell around wrk exits. self is read here because $BASHPID in
	# a command substitution is that of the substitution. The awk calls of
	# the stat functions add a few ticks.
	caddy_before="$(stat_ticks "$caddy_pid" 14)"
	wrk_before="$(stat_ticks "$self" 16)"
	busy_before="$(busy_ticks)"
	output="$(run_wrk "$path" "$duration")"
	caddy_after="$(stat_ticks "$caddy_pid" 14)"
	wrk_after="$(stat_ticks "$self" 16)"
	busy_after="$(busy_ticks)"

	if grep -q 'Non-2xx or 3xx responses' <<<"$output"; then
		echo "$output" >&2
		fail "$path: some responses were not 200"
	fi
	if grep -q 'Socket errors' <<<"$output"; then
		echo "load.sh: $path: $(grep 'Socket errors' <<<"$output" | sed 's/^ *//')" >&2
	fi
	awk -v caddy=$((caddy_after - caddy_before)) -v wrk=$((wrk_after - wrk_before)) \
		-v busy=$((busy_after - busy_before)) -v hz="$clock_ticks" -v cpus="$cpus" '
		function ms(v) {
			if (v ~ /us$/) return v / 1000
			if (v ~ /ms$/) return v + 0
			if (v ~ /s$/) return v * 1000
			return -1
		}
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		$2 == "requests" && $3 == "in" { requests = $1; seconds = $4 + 0 }
		$1 == "Requests/sec:" { rps = $2 }
		END {
			if (rps == "" || p50 == "" || p99 == "" || requests == "" || seconds == 0) exit 1
			others = (busy - caddy - wrk) / (seconds * hz * cpus) * 100
			if (others < 0) others = 0
			printf "%s %.3f %.3f %.2f %.0f\n", rps, p50, p99, caddy / hz * 1e6 / requests, others
		}' <<<"$output" || fail "$path: could not read requests/s, p50 and p99 from the wrk output"
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
cpu_model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"

echo "Caddy with daily_token on 127.0.0.1, wrk -t$threads -c$connections -d${duration}s --latency after a ${warmup}s warm-up, $rounds round(s), pinned: $pin"
echo "$(go version | cut -d' ' -f3-), $cpus CPUs ($cpu_model), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load average before: $load_before"
echo
printf '%-6s %-9s %12s %8s %10s %10s %11s %8s %9s\n' \
	round route requests/s "vs bare" "p50 ms" "p99 ms" "CPU us/req" "vs bare" "others %"

# ratio prints a / b with three decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
}

# mean prints the mean of its arguments.
mean() {
	printf '%s\n' "$@" | awk '{ sum += $1 } END { printf "%.3f", sum / NR }'
}

# Two ratios per route and round, both 1 for the same cost as bare and
# lower for a higher cost: requests/s over that of bare, and bare's CPU time
# per request over the route's. The second is the throughput ratio that a
# Caddy limited by its own CPU time would show, with wrk's share left out.
declare -A throughput_ratios=() cpu_ratios=()
disturbed=0
for round in $(seq "$rounds"); do
	for route in bare validate mint; do
		result="$(measure "/$route/hello")"
		read -r rps p50 p99 cpu others <<<"$result"
		if [[ "$route" == bare ]]; then
			bare_rps="$rps"
			bare_cpu="$cpu"
		fi
		throughput_ratio="$(ratio "$rps" "$bare_rps")"
		cpu_ratio="$(ratio "$bare_cpu" "$cpu")"
		printf '%-6s %-9s %12.0f %8s %10.3f %10.3f %11s %8s %9s\n' \
			"$round" "$route" "$rps" "$throughput_ratio" "$p50" "$p99" "$cpu" "$cpu_ratio" "$others"
		throughput_ratios[$route]+="$throughput_ratio "
		cpu_ratios[$route]+="$cpu_ratio "
		if [[ "$others" -gt 5 ]]; then
			disturbed=$((disturbed + 1))
		fi
	done
done

# The lists of numbers below are split into arguments on purpose.
# shellcheck disable=SC2086
{
	echo
	echo "CPU us/req: Caddy's CPU time per request. others %: CPU time of other processes"
	echo "during the run, wrk excluded, in percent of the machine's $cpus CPUs."
	echo "requests/s vs bare, per round and mean (target for validate: >= 0.85):"
	echo "  validate ${throughput_ratios[validate]}(mean $(mean ${throughput_ratios[validate]}))"
	echo "  mint     ${throughput_ratios[mint]}(mean $(mean ${throughput_ratios[mint]}))"
	echo "bare's CPU time per request over the route's, per round and mean:"
	echo "  validate ${cpu_ratios[validate]}(mean $(mean ${cpu_ratios[validate]}))"
	echo "  mint     ${cpu_ratios[mint]}(mean $(mean ${cpu_ratios[mint]}))"
	echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	if [[ "$disturbed" -gt 0 ]]; then
		echo "WARNING: other processes used more than 5% of the machine during $disturbed of"
		echo "$((rounds * 3)) measurements, so their ratios are unreliable. Run again when it is idle."
	fi
}

# profile_route writes a CPU profile of Caddy to DIR/NAME.pprof while wrk
# loads /NAME/hello.
profile_route() {
	local name=$1
	# Started without run_wrk, so that wrk_pid is the pid of timeout, which
	# passes the cleanup's signal on to wrk.
	timeout $((profile_seconds + 34)) "${wrk_pinning[@]}" wrk "${wrk_options[@]}" \
		-d"$((profile_seconds + 4))s" "$base/$name/hello" >/dev/null &
	wrk_pid=$!
	sleep 2
	curl -sf --max-time $((profile_seconds + 20)) -o "$profile/$name.pprof" \
		"http://$admin/debug/pprof/profile?seconds=$profile_seconds" ||
		fail "fetching the CPU profile of /$name from the admin endpoint failed"
	wait "$wrk_pid" || fail "wrk failed during the profile of /$name"
	wrk_pid=""
}

if [[ -n "$profile" ]]; then
	profile_route bare
	profile_route validate

	# The cumulative share of validation.authorize is the CPU time that
	# daily_token spends on a request, the core included, out of all of
	# Caddy's CPU time. Handler.ServeHTTP would also count the respond
	# handler it calls. Garbage collection of the handler's allocations runs
	# elsewhere and is not in the share.
	share="$(go tool pprof -top -cum "$profile/validate.pprof" 2>/dev/null |
		awk '$6 == "github.com/dailytoken/dailytoken/caddymodule.(*validation).authorize" { print $5 }')"
	echo
	echo "CPU profiles of Caddy, ${profile_seconds}s each under load: $profile/bare.pprof, $profile/validate.pprof"
	echo "share of Caddy's CPU time in daily_token on /validate (validation.authorize, cumulative): ${share:-not found}"
	echo "top entries: go tool pprof -top -cum $profile/validate.pprof"
	echo "compared with bare: go tool pprof -top -normalize -diff_base $profile/bare.pprof $profile/validate.pprof"
fi
