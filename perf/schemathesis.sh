#!/usr/bin/env bash
# API fuzzing: schemathesis generates requests from /api/v1/openapi.json and checks every
# response against it (no 5xx, status codes, content types, headers and bodies as
# documented, invalid input refused, valid input accepted, auth not ignored).
#
#   perf/schemathesis.sh [sqlite|postgres] [MAX_EXAMPLES]
#
# Uses a fresh database (a temporary SQLite file, or a new database on PostgreSQL at
# $PG_ADMIN_URL, dropped at exit) seeded with the demo data, one account per role with an
# API token, an open wave with invitations and a closed one, and the release binary with
# the respondent rate limit off. The generated requests use real wave ids, service codes
# and invitation tokens most of the time (perf/schemathesis.toml), random ones otherwise.
# MAX_EXAMPLES (default 100) is the number of generated cases per operation and role;
# 10 is the short run for CI. SEED fixes the generated data. Prints one RESULT line and
# exits non-zero on any failure. Needs python3 (schemathesis is pip-installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:-sqlite}
MAX_EXAMPLES=${2:-100}
SEED=${SEED:-20260409}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SCHEMATHESIS_VERSION=4.32.5

case "$BACKEND" in sqlite | postgres) ;; *) echo "usage: $0 [sqlite|postgres] [MAX_EXAMPLES]" >&2; exit 2 ;; esac
# Run as a module: found whether or not pip's script directory is on PATH.
ST=(python3 -m schemathesis.cli)
if ! "${ST[@]}" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  python3 -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
# SCHEMATHESIS_BIN: a binary already built (CI passes the test suite's debug build rather than
# spend a release build on a short run).
if [ -n "${SCHEMATHESIS_BIN:-}" ]; then
  BIN=$(realpath "$SCHEMATHESIS_BIN")
else
  cargo build --release --locked --quiet --features bench
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/samskap
fi
START=$(date +%s)  # seeding and fuzzing, not the build
WORK=$(mktemp -d)
DB=
cleanup() {
  [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "$DB" ]; then psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true; fi
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

export SAMSKAP_SECRET_KEY=schemathesis-secret-key-0123456789abcdef
export SAMSKAP_RESPONDENT_RATE_LIMIT=0
export SAMSKAP_MAIL_DIR=$WORK/mail
export SAMSKAP_SURVEYS_DIR=$PWD/surveys
export RUST_LOG=${RUST_LOG:-warn}
if [ "$BACKEND" = postgres ]; then
  DB=samskap_schemathesis_$$
  psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB"
  export DATABASE_URL=${PG_ADMIN_URL%/*}/$DB
else
  export DATABASE_URL=sqlite://$WORK/samskap.db
fi
sql() {
  if [ "$BACKEND" = postgres ]; then
    psql "$DATABASE_URL" -tAc "$1"
  else
    python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join(map(str, row)))' "$WORK/samskap.db" "$1"
  fi
}

echo "== $BACKEND: seeding (demo data, accounts, waves, invitations)"
"$BIN" migrate >/dev/null
"$BIN" demo | tail -1
# Invitations to an open wave (consent, answers and submit reach real questionnaires) and
# to a closed one (410), and a draft wave (its results are 404).
"$BIN" bench prepare --invitations 400 --out "$WORK/open.txt" >/dev/null
"$BIN" bench prepare --invitations 20 --out "$WORK/closed.txt" >"$WORK/closed-wave.txt"
"$BIN" wave close "$(awk '{print $2}' "$WORK/closed-wave.txt" | tr -d ':')" >/dev/null
"$BIN" wave create --name "Schemathesis draft" >/dev/null
DRAFT=$(sql "SELECT id FROM waves WHERE status = 'draft'")
# The services of the newest demo wave with the most answers first: the manager runs the
# first, the policymaker oversees its health region.
NEWEST=$(sql "SELECT id FROM waves WHERE name NOT LIKE 'Benchmark %' AND status <> 'draft' ORDER BY opens_at DESC LIMIT 1")
sql "SELECT s.code FROM services s JOIN responses r ON r.service_id = s.id WHERE r.wave_id = '$NEWEST' GROUP BY s.code ORDER BY count(*) DESC, s.code LIMIT 12" >"$WORK/codes.txt"
sql "SELECT code FROM services ORDER BY code LIMIT 4" >>"$WORK/codes.txt"
MANAGED=$(head -1 "$WORK/codes.txt")
REGION=$(sql "SELECT h.name FROM services s JOIN regions h ON h.id = s.health_region_id WHERE s.code = '$MANAGED'")
PASSWORD=schemathesis-password-0123456789
add_user() { echo "$PASSWORD" | "$BIN" user add --email "$1@fuzz.invalid" --role "$1" --password-stdin "${@:2}" >/dev/null; }
add_user admin
add_user manager --scope "service:$MANAGED"
add_user policymaker --scope "region:$REGION"
add_user researcher --scope "wave:$NEWEST"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
"$BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 200); do curl -fsS "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# Signs in as ROLE in a browser session and creates an API token on /me.
api_token() {
  local jar=$WORK/$1.jar csrf
  curl -fsS -c "$jar" -b "$jar" -o "$WORK/login.html" "$URL/login"
  csrf=$(grep -o 'name="_csrf" value="[^"]*"' "$WORK/login.html" | head -1 | sed 's/.*value="//; s/"//')
  curl -fsS -c "$jar" -b "$jar" -o /dev/null --data-urlencode "_csrf=$csrf" \
    --data-urlencode "email=$1@fuzz.invalid" --data-urlencode "password=$PASSWORD" "$URL/login"
  # Signing in starts a new CSRF token: read it again.
  curl -fsS -c "$jar" -b "$jar" -o "$WORK/me.html" "$URL/me"
  csrf=$(grep -o 'name="_csrf" value="[^"]*"' "$WORK/me.html" | head -1 | sed 's/.*value="//; s/"//')
  curl -fsS -c "$jar" -b "$jar" --data-urlencode "_csrf=$csrf" --data-urlencode "name=schemathesis" \
    -o "$WORK/tokens.html" "$URL/me/tokens"
  grep -oE 'samskap_[0-9a-f]{64}' "$WORK/tokens.html" | head -1
}

# Half the invitations have consented already, so that saving answers reaches the
# questionnaire.
awk 'NR % 2 == 0' "$WORK/open.txt" | while read -r t; do
  curl -fsS -o /dev/null -X POST "$URL/api/v1/respondent/$t/consent"
done

# Dictionaries of real values, one quoted entry a line (libFuzzer format).
quote() { sed 's/.*/"&"/'; }
ADMIN_TOKEN=$(api_token admin)
curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN" "$URL/api/v1/waves" |
  python3 -c 'import json, sys; [print(w["id"]) for w in json.load(sys.stdin)["waves"]]' >"$WORK/waves.txt"
{ cat "$WORK/waves.txt"; echo "$DRAFT"; } | quote >"$WORK/waves.dict"
quote <"$WORK/codes.txt" >"$WORK/codes.dict"
cat "$WORK/open.txt" "$WORK/closed.txt" | quote >"$WORK/tokens.dict"
cp perf/schemathesis.toml "$WORK/schemathesis.toml"

echo "== $BACKEND: $(wc -l <"$WORK/waves.txt") waves, $(wc -l <"$WORK/codes.txt") services, $(wc -l <"$WORK/open.txt") open invitations; server at $URL"
FAILED=0
for ROLE in admin manager policymaker researcher; do
  TOKEN=$ADMIN_TOKEN
  [ "$ROLE" = admin ] || TOKEN=$(api_token "$ROLE")
  [ -n "$TOKEN" ] || { echo "no API token for $ROLE" >&2; exit 1; }
  echo "== $BACKEND: schemathesis as $ROLE ($MAX_EXAMPLES examples per operation, seed $SEED)"
  # The respondent operations take no API token: the admin run covers them. The other
  # roles' runs warn that some operations answered only 401/403: those their role may not
  # use, which is what these runs check.
  EXCLUDE=()
  [ "$ROLE" = admin ] || EXCLUDE=(--exclude-path-regex '^/api/v1/(respondent|openapi)')
  if ! SAMSKAP_API_TOKEN=$TOKEN "${ST[@]}" --config-file "$WORK/schemathesis.toml" run "$URL/api/v1/openapi.json" \
    --checks all --seed "$SEED" --max-examples "$MAX_EXAMPLES" --no-color "${EXCLUDE[@]}" \
    --report har --report-har-path "$WORK/$ROLE.har" >"$WORK/$ROLE.out" 2>&1; then
    FAILED=1
    cat "$WORK/$ROLE.out"
  else
    sed -n '/SUMMARY/,$p' "$WORK/$ROLE.out"
  fi
done
# schemathesis never puts a NUL byte in a path parameter: ask for ids holding one here
# (PostgreSQL text cannot store it), expecting the documented 404 JSON error, not a 5xx;
# and a query value holding one, which the API only compares in memory.
WAVE=$(head -1 "$WORK/waves.txt")
PROBES=0
for path in "/api/v1/services/$MANAGED%00" "/api/v1/waves/$WAVE%00/psychometrics" \
  "/api/v1/waves/$WAVE/services/$MANAGED%00/results" "/api/v1/waves/$WAVE%00/services/$MANAGED/benchmarks" \
  "/api/v1/waves/$WAVE/regions?role=manager%00" "/api/v1/respondent/$(head -1 "$WORK/open.txt")%00"; do
  PROBES=$((PROBES + 1))
  STATUS=$(curl -sS -o "$WORK/probe.json" -w '%{http_code} %{content_type}' -H "Authorization: Bearer $ADMIN_TOKEN" "$URL$path")
  case "$STATUS" in
    [24]??" application/json") ;;
    *) echo "NUL probe $path: $STATUS $(head -c 200 "$WORK/probe.json")"; FAILED=1 ;;
  esac
done
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
if grep -q 'request failed' "$WORK/server.log"; then
  echo "== server errors logged:"; grep 'request failed' "$WORK/server.log" | head -20
fi

SUMMARY=$(python3 - "$WORK" <<'EOF'
import collections, json, pathlib, re, sys
work = pathlib.Path(sys.argv[1])
statuses = collections.Counter()
for har in sorted(work.glob("*.har")):
    for entry in json.loads(har.read_text())["log"]["entries"]:
        statuses[entry["response"]["status"]] += 1
# The closing line of each run: "=== 2 failures, 1 error, 1 warning in 9.12s ===".
found = collections.Counter()
for out in sorted(work.glob("*.out")):
    last = re.findall(r"^=+ (.*) in [\d.]+s =+$", out.read_text(), re.M)[-1:]
    for n, kind in re.findall(r"(\d+) (failure|error)s?\b", "".join(last)):
        found[kind] += int(n)
total = sum(statuses.values())
fivexx = sum(n for s, n in statuses.items() if s >= 500)
dist = " ".join(f"{s}:{n}" for s, n in sorted(statuses.items()))
print(f"requests={total} 5xx={fivexx} failures={found['failure']} errors={found['error']} statuses={dist}")
EOF
)
echo
echo "RESULT backend=$BACKEND max_examples=$MAX_EXAMPLES seed=$SEED $SUMMARY nul_probes=$PROBES seconds=$(( $(date +%s) - START ))"
case "$SUMMARY" in *" 5xx=0 failures=0 errors=0 "*) ;; *) FAILED=1 ;; esac
exit "$FAILED"
