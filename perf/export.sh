#!/usr/bin/env bash
# A researcher downloads a large wave's research bundle from the browser: the release
# server, a wave of RESPONSES simulated complete responses, an admin signed in through
# the sign-in form (CSRF token and session cookie, as a browser does), and
# `GET /exports/bundle?wave=…&project=perf&labels=en` saved by curl. Measures the zip's
# size, the time to the first byte (long.csv is sent as the bundle writes it) and to
# the last, and the server's RSS before and during the download (goal: peak < 500 MiB),
# then checks the zip (every CRC) and that samskap-bundle/samskap.sav opens in pyreadstat
# with one row per response.
#
#   perf/export.sh [sqlite|postgres] [RESPONSES]      (defaults: sqlite 100000)
#
# The wave (over SERVICES services, default 20,000) is the one perf/analytics.sh stores
# for the same size (perf/stored_wave.sh), stored first when missing and kept for later
# runs. Results go to target/perf/export-BACKEND-RESPONSES/. The server's RSS is sampled every 0.2 s with the files of the
# export's temporary directory (the server's TMPDIR is ours), so the peak can be put down
# to a phase, and split into anonymous memory (the heap) and file-backed pages (on SQLite
# mostly the database file, which every pooled connection maps up to PRAGMA mmap_size):
# rss.tsv there has every sample, server.log the server's log.
# Needs pyreadstat (`pip install pyreadstat`). Exits 1 when the peak is 500 MiB or more,
# or the zip is broken. SAMPLE_SECONDS=0.05 samples more often.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:-sqlite}
RESPONSES=${2:-100000}
SERVICES=${SERVICES:-20000}
LIMIT_MIB=${LIMIT_MIB:-500}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export SAMSKAP_MIN_CELL=${SAMSKAP_MIN_CELL:-5}
export SAMSKAP_SECRET_KEY=benchmark-secret-key-0123456789abcdef
export SAMSKAP_SURVEYS_DIR=$PWD/surveys
export RUST_LOG=${RUST_LOG:-warn}

python3 -c 'import pyreadstat' 2>/dev/null || { echo "pyreadstat is missing: pip install pyreadstat" >&2; exit 1; }
cargo build --release --locked --quiet --features bench
BIN=$PWD/target/release/samskap
RESULTS=$PWD/target/perf/export-$BACKEND-$RESPONSES
mkdir -p "$RESULTS"
WORK=$(mktemp -d)
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  cp "$WORK/server.log" "$RESULTS/" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export SAMSKAP_MAIL_DIR=$WORK/mail

# shellcheck source=perf/stored_wave.sh
source perf/stored_wave.sh
"$BIN" migrate >/dev/null

# An admin with a known password (a reused database has the account already: a new
# password then).
EMAIL=perf-export@bench.invalid
PASSWORD=perf-password-0123456789
echo "$PASSWORD" | "$BIN" user add --email "$EMAIL" --role admin --password-stdin >/dev/null 2>&1 ||
  echo "$PASSWORD" | "$BIN" user passwd --email "$EMAIL" --password-stdin >/dev/null

# The server on a free port, plain http (the base URL is http://…, so cookies are not
# Secure), its temporary files in a directory of ours.
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
URL=http://127.0.0.1:$PORT
mkdir -p "$WORK/tmp"
TMPDIR=$WORK/tmp RUST_LOG=${SERVER_LOG:-info} "$BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do curl -fsS "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$URL/healthz" >/dev/null

# Signed in as a browser: the form's CSRF token and cookie, then the form posted.
JAR=$WORK/cookies
curl -fsS -c "$JAR" -b "$JAR" "$URL/login" >"$WORK/login.html"
CSRF=$(grep -o 'name="_csrf" value="[^"]*"' "$WORK/login.html" | head -1 | sed 's/.*value="//; s/"//')
STATUS=$(curl -sS -c "$JAR" -b "$JAR" -o /dev/null -w '%{http_code}' --data-urlencode "_csrf=$CSRF" \
  --data-urlencode "email=$EMAIL" --data-urlencode "password=$PASSWORD" "$URL/login")
[ "$STATUS" = 303 ] || [ "$STATUS" = 302 ] || { echo "sign-in answered $STATUS" >&2; exit 1; }

# The wave's results are computed in the background once a signed-in request asks for
# them (a fresh server holds about 34 MiB before): wait for that, as on a server whose
# dashboards have been read, so the download is measured alone.
echo "== $BACKEND: waiting for the first publication of the wave"
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null -b "$JAR" "$URL/api/v1/waves/$WAVE/psychometrics" 2>/dev/null && break
  sleep 0.5
done
sleep 2
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$SERVER/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.0f MiB", k / 1024}'; }
BEFORE_RSS=$(kib VmRSS)
BEFORE_SPLIT="$(mib "$(kib RssAnon)") anonymous + $(mib "$(kib RssFile)") file-backed"
START_HWM=$(kib VmHWM)
# Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+): the peak read at
# the end is the download's own. Where that is refused, VmHWM includes the start.
RESET=yes
echo 5 >"/proc/$SERVER/clear_refs" 2>/dev/null || RESET=no

# RSS every SAMPLE_SECONDS (0.2) with the export's files and the bytes received so far.
OUT=$WORK/samskap-bundle.zip
: >"$OUT"
python3 - "$SERVER" "$WORK/tmp" "$OUT" "$WORK/stop" "${SAMPLE_SECONDS:-0.2}" >"$RESULTS/rss.tsv" <<'EOF' &
import os, sys, time
pid, tmp, out, stop, every = sys.argv[1:]
start = time.monotonic()
print("seconds\trss_kib\tanon_kib\tfile_kib\treceived_bytes\tfiles")
while not os.path.exists(stop):
    try:
        with open(f"/proc/{pid}/status") as f:
            status = {l.split(":")[0]: l.split()[1] for l in f if l.startswith(("VmRSS", "RssAnon", "RssFile"))}
    except OSError:
        break
    files = []
    for d in sorted(os.listdir(tmp)):
        try:
            for name in sorted(os.listdir(os.path.join(tmp, d))):
                files.append(f"{name}:{os.path.getsize(os.path.join(tmp, d, name))}")
        except OSError:
            pass
    print(f"{time.monotonic() - start:.2f}\t{status['VmRSS']}\t{status['RssAnon']}\t{status['RssFile']}\t"
          f"{os.path.getsize(out)}\t{','.join(files)}", flush=True)
    time.sleep(float(every))
EOF
SAMPLER=$!

echo "== $BACKEND: downloading the bundle of $RESPONSES responses"
curl -sS -b "$JAR" -o "$OUT" -w '%{http_code} %{time_starttransfer} %{time_total}\n' \
  "$URL/exports/bundle?wave=$WAVE&project=perf&labels=en" >"$WORK/curl.txt" || true
touch "$WORK/stop"
wait "$SAMPLER" || true
read -r HTTP FIRST_BYTE TOTAL <"$WORK/curl.txt"
PEAK_HWM=$(kib VmHWM)
AFTER_RSS=$(kib VmRSS)

python3 - "$RESULTS/rss.tsv" "${SAMPLE_SECONDS:-0.2}" <<'EOF'
# The export's phases, in the order src/app/export/bundle.rs writes the files, told from
# the files in its temporary directory and the bytes received (a phase never goes back).
# RSS is anonymous memory (the heap) plus file-backed pages (the binary and, on SQLite,
# the database file each pooled connection maps: PRAGMA mmap_size).
import sys
PHASES = [
    "responses' metadata loaded (no file yet)",
    "answers read, long/wide/scores.csv written (then long.csv's first Parquet batch read)",
    "long.csv and wide.csv to Parquet (polars, batches of about 500,000 cells)",
    "psychometrics.csv (from the served publication; computed only when there is none yet)",
    "codebook, scripts, samskap.sav and samskap.dta, README",
    "bundle written: the rest of the zip streamed (long.csv was sent as it was written)",
]
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
seen, previous, phase = [], {}, 0
for t, rss, anon, file, received, files in rows:
    sizes = {k: int(v) for k, v in (f.rsplit(":", 1) for f in files.split(",") if f)}
    grew = {k for k, v in sizes.items() if v != previous.get(k)}
    previous = sizes
    if "README.md" in sizes:
        now = 5
    elif "psychometrics.csv" in sizes:
        now = 4
    elif "wide.parquet" in sizes and "wide.parquet" not in grew:
        now = 3
    elif "long.parquet" in sizes:
        now = 2
    elif sizes:
        now = 1
    else:
        now = 0
    phase = max(phase, now)
    sample = (int(rss), int(anon), int(file))
    if seen and seen[-1][0] == phase:
        seen[-1][2] = float(t)
        seen[-1][3] = max(seen[-1][3], sample)
    else:
        seen.append([phase, float(t), float(t), sample])
print(f"RSS by phase (VmRSS sampled every {sys.argv[2]} s; the phase's highest sample = anonymous + file-backed):")
for p, a, b, (rss, anon, file) in seen:
    print(f"  {a:5.1f}-{b:5.1f} s  {rss / 1024:4.0f} MiB = {anon / 1024:4.0f} + {file / 1024:4.0f}  {PHASES[p]}")
top = max(rows, key=lambda r: int(r[1]))
print(f"highest sample: {int(top[1]) / 1024:.0f} MiB at {float(top[0]):.1f} s = anonymous {int(top[2]) / 1024:.0f} MiB "
      f"+ file-backed {int(top[3]) / 1024:.0f} MiB; highest anonymous: {max(int(r[2]) for r in rows) / 1024:.0f} MiB")
EOF
# The database file as mapped now (SQLite: every pooled connection maps up to mmap_size).
if [ "$BACKEND" = sqlite ]; then
  awk -v db="$DIR/samskap.db" '$NF == db {m++} $NF == db {on = 1; next} /^[0-9a-f]+-[0-9a-f]+ / {on = 0}
    on && /^Rss:/ {kib += $2} END {printf "database file mapped after the download: %d mappings, %.0f MiB resident\n", m, kib / 1024}' \
    "/proc/$SERVER/smaps"
fi

ZIP_BYTES=$(stat -c %s "$OUT")
CHECK=$(python3 - "$OUT" "$RESPONSES" <<'EOF'
import csv, io, os, sys, tempfile, zipfile
import pyreadstat
path, expected = sys.argv[1], int(sys.argv[2])
try:
    with zipfile.ZipFile(path) as z:
        bad = z.testzip()
        if bad is not None:
            print(f"BROKEN: {bad} fails its CRC"); sys.exit()
        with tempfile.TemporaryDirectory() as d:
            sav = z.extract("samskap-bundle/samskap.sav", d)
            frame, meta = pyreadstat.read_sav(sav, metadataonly=False)
        with z.open("samskap-bundle/wide.csv") as f:
            wide = sum(1 for _ in csv.reader(io.TextIOWrapper(f, encoding="utf-8", newline=""))) - 1
        n = len(frame)
        ok = n == expected and wide == expected
        print(f"{'ok' if ok else 'BROKEN'}: {len(z.namelist())} files, every CRC right; samskap.sav "
              f"{n} rows x {frame.shape[1]} columns (wide.csv {wide} rows, expected {expected})")
except Exception as e:
    print(f"BROKEN: {type(e).__name__}: {e}")
EOF
)

echo "== $BACKEND: $RESPONSES responses"
echo "HTTP status: $HTTP"
echo "zip: $ZIP_BYTES bytes ($(mib $((ZIP_BYTES / 1024))))"
echo "download: $TOTAL s (first byte after $FIRST_BYTE s)"
echo "server RSS before the download: $(mib "$BEFORE_RSS") = $BEFORE_SPLIT (peak since start, the first publication included: $(mib "$START_HWM"))"
echo "server peak RSS during the download (VmHWM$([ "$RESET" = yes ] && echo ", reset before it" || echo " since start: clear_refs refused")): $(mib "$PEAK_HWM"); RSS after: $(mib "$AFTER_RSS")"
echo "zip check: $CHECK"
FAILED=0
if [ "$HTTP" != 200 ] || [[ "$CHECK" != ok* ]]; then
  echo "the download is broken (server log: $RESULTS/server.log)"; FAILED=1
fi
if [ "$PEAK_HWM" -ge $((LIMIT_MIB * 1024)) ]; then
  echo "peak RSS goal < $LIMIT_MIB MiB: NOT met"; FAILED=1
else
  echo "peak RSS goal < $LIMIT_MIB MiB: met"
fi
exit "$FAILED"
