# lib.sh -- shared by the integration scripts: a private scratch folder, a
# private redis-server on a free port (as hiredis' test.sh does), asserts.
set -euo pipefail
LUMOS=${LUMOS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/lumos}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/lumos-it-XXXXXX")
REDIS_PID=
cleanup() {
  [[ -n $REDIS_PID ]] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# start_redis: sets REDIS_PORT and REDIS (HOST:PORT).
start_redis() {
  local port
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" \
      --logfile "$TMP/redis.log" --daemonize no &
    REDIS_PID=$!
    for _ in $(seq 100); do
      if redis-cli -p "$port" ping >/dev/null 2>&1; then
        REDIS_PORT=$port
        REDIS=127.0.0.1:$port
        return 0
      fi
      kill -0 "$REDIS_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=
  done
  fail "could not start redis-server"
}

# expect_exit CODE command...: runs it, checks the exit status, keeps its
# stdout in $OUT and stderr in $ERR.
expect_exit() {
  local want=$1
  shift
  local rc=0
  "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  OUT=$(cat "$TMP/out")
  ERR=$(cat "$TMP/err")
  [[ $rc -eq $want ]] || fail "'$*' exited $rc, expected $want; stderr: $ERR"
}

# contains HAYSTACK NEEDLE
contains() {
  [[ $1 == *"$2"* ]] || fail "expected to find '$2' in: ${1:0:400}"
}

# runner_cli_checks RUNNER USAGE_NAME VERSION_TEXT MODULE: what every Wasm
# runner under libexec/ (lumos-interp, lumos-wasm-interp-wabt) does with a
# bad command line: a missing --dir host folder exits 3 naming it; no
# module, a bad --env, an unknown option and a --dir without its value exit
# 2 with usage; --version names the engine.
runner_cli_checks() {
  local runner=$1 usage=$2 version=$3 module=$4
  expect_exit 3 "$runner" --dir "$TMP/no-such-dir::/data" "$module"
  contains "$ERR" "$TMP/no-such-dir"
  expect_exit 2 "$runner"
  contains "$ERR" "usage: $usage"
  expect_exit 2 "$runner" --env NOEQUALS "$module"
  contains "$ERR" "K=V"
  expect_exit 2 "$runner" --bogus x "$module"
  contains "$ERR" "unknown option --bogus"
  expect_exit 2 "$runner" --dir
  expect_exit 0 "$runner" --version
  contains "$OUT" "$version"
}
