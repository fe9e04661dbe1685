# serve_lib.sh -- for the scripts that test `lumos serve` (after lib.sh):
# start it on a free port, stop it (SIGTERM, as a user would), and POST to
# it keeping the status, the body and the Server-Timing header.
SERVE_PID=
stop_serve() {
  [[ -n $SERVE_PID ]] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  SERVE_PID=
}
trap 'stop_serve; cleanup' EXIT

serve() { # options...: sets SERVE_PID, PORT, URL
  # Emptied here, not by the child's redirection: the wait below must not read
  # the last server's port from the file before the new child has opened it.
  : >"$TMP/serve.out"
  "$LUMOS" serve --port 0 "$@" >"$TMP/serve.out" 2>"$TMP/serve.err" &
  SERVE_PID=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$TMP/serve.out" 2>/dev/null && break
    sleep 0.1
  done
  PORT=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\) .*|\1|p' "$TMP/serve.out")
  [[ -n $PORT ]] || fail "serve did not start: $(cat "$TMP/serve.err")"
  URL=http://127.0.0.1:$PORT
}

post() { # path body [curl options]: sets CODE, BODY, TIMING
  local path=$1 body=$2
  shift 2
  CODE=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X POST -d "$body" "$@" "$URL$path")
  BODY=$(cat "$TMP/body")
  TIMING=$(grep -i '^server-timing:' "$TMP/headers" | tr -d '\r' || true)
}
