"""Submissions at a steady rate into a live wave, and how long each takes to be published.

Usage: live_submit.py TOKENS BODY RATE SECONDS WAVE URLS COOKIES
(URLS comma-separated, COOKIES '|'-separated, one per URL; submissions and the watcher
alternate between the instances.)

Each submission is one respondent's whole questionnaire (consent, answers, submit). A
watcher reads the published manager count of the wave every 0.2 s; the k-th accepted
submission counts as published when the count has risen by k. Prints one summary.
"""

import json
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

tokens_file, body_file, rate, seconds, wave, urls, cookies = sys.argv[1:8]
rate, seconds = float(rate), float(seconds)
urls = urls.split(",")
cookies = cookies.split("|")
tokens = [t for t in open(tokens_file).read().split() if t]
body = open(body_file, "rb").read()


def published(i):
    req = urllib.request.Request(
        f"{urls[i % len(urls)]}/api/v1/waves/{wave}/psychometrics",
        headers={"Cookie": cookies[i % len(cookies)]},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        data = json.load(res)
    for r in data["respondents"]:
        if r["role"] == "manager":
            return r["count"].get("value")
    return None


base = published(0)
seen = []  # (time, published manager count)
stop = threading.Event()


def watch():
    i = 0
    while not stop.is_set():
        try:
            seen.append((time.time(), published(i)))
        except (urllib.error.URLError, OSError, ValueError):
            pass
        i += 1
        time.sleep(0.2)


results = []  # (accepted at, status, latency)
lock = threading.Lock()


def submit(i):
    url = f"{urls[i % len(urls)]}/api/v1/respondent/{tokens[i]}/submit"
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.time()
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            status = res.status
    except urllib.error.HTTPError as e:
        status = e.code
    except (urllib.error.URLError, OSError):
        status = 0
    done = time.time()
    with lock:
        results.append((done, status, done - started))


watcher = threading.Thread(target=watch, daemon=True)
watcher.start()
count = int(rate * seconds)
start = time.time()
with ThreadPoolExecutor(max_workers=16) as pool:
    for i in range(count):
        delay = start + i / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        pool.submit(submit, i)
last = max(r[0] for r in results)
# Keep watching until everything accepted is published, or 30 s.
accepted = sorted(r[0] for r in results if r[1] == 200)
while time.time() < last + 30 and (not seen or (seen[-1][1] or 0) < base + len(accepted)):
    time.sleep(0.2)
stop.set()
watcher.join()

failed = [r for r in results if r[1] != 200]
latencies = sorted(r[2] for r in results)
lag = []
unpublished = 0
for k, at in enumerate(accepted, start=1):
    when = next((t for t, n in seen if n is not None and t >= at and n >= base + k), None)
    if when is None:
        unpublished += 1
    else:
        lag.append(when - at)
lag.sort()


def pct(xs, p):
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


statuses = {}
for r in failed:
    statuses[r[1]] = statuses.get(r[1], 0) + 1
print(
    f"submissions: {len(results)} sent, {len(accepted)} accepted, {len(failed)} failed {statuses or ''}; "
    f"latency p50 {pct(latencies, 50) * 1000:.0f} ms, p99 {pct(latencies, 99) * 1000:.0f} ms, "
    f"max {latencies[-1] * 1000:.0f} ms"
)
print(
    f"published after: p50 {pct(lag, 50):.1f} s, p95 {pct(lag, 95):.1f} s, max {max(lag) if lag else float('nan'):.1f} s; "
    f"{unpublished} not published within 30 s of the last submission"
)
