#!/usr/bin/env bash
# Harness robustness measurement (not a test): peak RSS of `obo-conformance run` against a target
# that answers 1 GB bodies at one place at a time (discovery, JWKS, token endpoint, pages).
# Usage: scripts/harness-rss.sh [path/to/obo-conformance]   (default: target/debug/obo-conformance)
# Needs python3 (the hostile server) and GNU time (/usr/bin/time).
set -euo pipefail
bin=${1:-target/debug/obo-conformance}
bin=$(realpath "$bin")
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

# One raw HTTP/1.1 server: HUGE names the path that answers 1 GB (chunked, 64 KiB chunks);
# every other path answers small valid documents.
cat >"$work/server.py" <<'PY'
import json, os, socket, threading, sys
huge = os.environ["HUGE"]
port = int(sys.argv[1])
GB = 1 << 30
def small(path, base):
    if path.startswith("/.well-known/oauth-authorization-server"):
        return 200, "application/json", json.dumps({
            "issuer": base, "authorization_endpoint": base + "/authorize",
            "token_endpoint": base + "/token", "jwks_uri": base + "/jwks",
            "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"]})
    if path.startswith("/jwks"):
        return 200, "application/json", '{"keys": []}'
    if path.startswith("/authorize"):
        return 302, "text/plain", ""
    return 400, "application/json", '{"error": "invalid_request"}'
def serve(conn):
    try:
        req = conn.recv(65536).decode("latin-1")
        path = req.split(" ")[1] if " " in req else "/"
        base = "http://127.0.0.1:%d" % port
        if path.startswith(huge):
            ctype = "text/html" if huge == "/authorize" else "application/json"
            conn.sendall(("HTTP/1.1 200 OK\r\ncontent-type: %s\r\ntransfer-encoding: chunked\r\n\r\n" % ctype).encode())
            chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
            for _ in range(GB // 0x10000):
                conn.sendall(chunk)
            conn.sendall(b"0\r\n\r\n")
        else:
            status, ctype, body = small(path, base)
            extra = "location: https://client.example/cb?code=x&state=y\r\n" if status == 302 else ""
            conn.sendall(("HTTP/1.1 %d X\r\ncontent-type: %s\r\n%scontent-length: %d\r\nconnection: close\r\n\r\n%s"
                          % (status, ctype, extra, len(body), body)).encode())
    except OSError:
        pass
    finally:
        conn.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/profile.toml" <<TOML
profile_version = 1
name = "huge-bodies"
revision = "02"
issuer = "http://127.0.0.1:$port"
capabilities = []

[client.primary]
id = "obo-client"
secret = "rss-client-secret"
auth_method = "client_secret_basic"
redirect_uri = "https://client.example/cb"

[actor.a]
id = "agent-a"
token = { source = "static", value = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudC1hIn0." }

[actor.b]
id = "agent-b"
token = { source = "static", value = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudC1iIn0." }

[user]
username = "alice"
password = "alice-password"
sub = "user-alice"

[consent]
driver = "auto"

[http]
timeout_secs = 30
TOML

printf '%-42s %5s %9s %6s\n' "1 GB body at" "exit" "peak RSS" "secs"
for huge in /.well-known/oauth-authorization-server /jwks /authorize /token; do
  HUGE=$huge python3 "$work/server.py" "$port" &
  server=$!
  sleep 0.5
  start=$(date +%s.%N)
  set +e
  /usr/bin/time -f %M -o "$work/rss" "$bin" run --target "$work/profile.toml" --quiet \
    --jobs 4 --out "$work/out" >/dev/null 2>"$work/err"
  code=$?
  set -e
  end=$(date +%s.%N)
  kb=$(tail -1 "$work/rss")
  printf '%-42s %5s %6s MB %6.1f\n' "$huge" "$code" "$((kb / 1024))" "$(echo "$end - $start" | bc)"
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
done
