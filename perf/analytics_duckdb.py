"""DuckDB's side of perf/analytics.sh: the core aggregates of one wave (phase means per
service x role, and each service's percentile rank in its four peer groups), timed, then
checked against the phase means samskap reported. Two ways:

- from the raw answers (answers.parquet): DuckDB scores every respondent itself;
- from the per-respondent scores (scores.parquet: the scores samskap stores at
  submission), as samskap does: the same work on equal footing.

usage: analytics_duckdb.py PARQUET_DIR SAMSKAP_MEANS_CSV K [REPEATS]
Prints one JSON line: best and median seconds of each, peak RSS, rows, and the
cross-checks.
"""

import csv
import json
import resource
import statistics
import sys
import time

import duckdb

directory, means_csv, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3

# Phase score per respondent: the mean of the valid values of the phase's items, when
# there are at least the phase's minimum of them (DK/NA and unanswered do not count).
# Cell: service x role x phase, mean of those scores. Index per respondent: mean of the
# four phase scores when all are scored; units for percentile ranks: service x role
# cells of the index with n >= k; rank = 100 * (below + 0.5 * equal) / N within each peer
# group (service type, health region, county, national) and role, for groups of >= 10.
# Both queries end alike: from `cells` (service x role x phase: n, mean) and `units`
# (service x role: index mean, peer-group keys, n >= k), the percentile ranks.
RANKS = """grouped AS (
    SELECT service, role, idx, 'service_type' AS grp, service_type AS grp_key FROM units
    UNION ALL SELECT service, role, idx, 'health_region', health_region FROM units
    UNION ALL SELECT service, role, idx, 'county', county FROM units
    UNION ALL SELECT service, role, idx, 'national', 'NO' FROM units
),
ranks AS (
    SELECT service, role, grp, grp_key,
           count(*) OVER g AS group_size,
           100.0 * ((rank() OVER (PARTITION BY grp, grp_key, role ORDER BY idx) - 1)
                    + 0.5 * count(*) OVER (PARTITION BY grp, grp_key, role, idx))
                 / count(*) OVER g AS percentile_rank
    FROM grouped
    WINDOW g AS (PARTITION BY grp, grp_key, role)
)
SELECT 'cell' AS kind, service, role, phase AS what, n, mean AS value FROM cells
UNION ALL
SELECT 'rank', service, role, grp, group_size, percentile_rank FROM ranks
WHERE group_size >= 10
"""

QUERY = f"""
WITH items AS (SELECT * FROM read_parquet('{directory}/items.parquet')),
services AS (SELECT * FROM read_parquet('{directory}/services.parquet')),
phase_scores AS (
    SELECT a.response, any_value(a.service) AS service, any_value(a.role) AS role,
           i.phase, avg(a.value) AS score, count(a.value) AS valid,
           any_value(i.min_valid) AS min_valid
    FROM read_parquet('{directory}/answers.parquet') a JOIN items i USING (item)
    GROUP BY a.response, i.phase
),
scored AS (SELECT * FROM phase_scores WHERE valid > 0 AND valid >= min_valid),
cells AS (
    SELECT service, role, phase, count(*) AS n, avg(score) AS mean
    FROM scored GROUP BY service, role, phase
),
respondent_index AS (
    SELECT response, any_value(service) AS service, any_value(role) AS role,
           avg(score) AS idx
    FROM scored GROUP BY response HAVING count(*) = (SELECT count(DISTINCT phase) FROM items)
),
units AS (
    SELECT r.service, r.role, count(*) AS n, avg(idx) AS idx,
           any_value(s.service_type) AS service_type,
           any_value(s.health_region) AS health_region,
           any_value(s.county) AS county
    FROM respondent_index r JOIN services s USING (service)
    GROUP BY r.service, r.role HAVING count(*) >= {k}
),
{RANKS}"""

con = duckdb.connect()
phases = [r[0] for r in con.execute(
    f"SELECT DISTINCT phase FROM read_parquet('{directory}/items.parquet') ORDER BY phase"
).fetchall()]

CELLS_FROM_SCORES = " UNION ALL ".join(
    f'SELECT service, role, \'{p}\' AS phase, count("{p}") AS n, avg("{p}") AS mean '
    f'FROM scores GROUP BY service, role HAVING count("{p}") > 0'
    for p in phases
)

# The same aggregates from per-respondent scores: one row per respondent with its phase
# scores (null when unscored) and its index (null unless every phase is scored).
SCORES_QUERY = f"""
WITH scores AS (SELECT * FROM read_parquet('{directory}/scores.parquet')),
services AS (SELECT * FROM read_parquet('{directory}/services.parquet')),
cells AS ({CELLS_FROM_SCORES}),
units AS (
    SELECT r.service, r.role, count(r.index) AS n, avg(r.index) AS idx,
           any_value(s.service_type) AS service_type,
           any_value(s.health_region) AS health_region,
           any_value(s.county) AS county
    FROM scores r JOIN services s USING (service)
    GROUP BY r.service, r.role HAVING count(r.index) >= {k}
),
{RANKS}"""


def timed(query):
    times, rows = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        rows = con.execute(query).fetchall()
        times.append(time.perf_counter() - started)
    return times, rows


def check(rows):
    cells = {(r[1], r[2], r[3]): (r[4], r[5]) for r in rows if r[0] == "cell"}
    checked, worst, mismatched = 0, 0.0, []
    with open(means_csv, newline="") as f:
        for line in csv.DictReader(f):
            key = (line["service"], line["role"], line["phase"])
            got = cells.get(key)
            if got is None or got[0] != int(line["n"]):
                mismatched.append(key)
                continue
            diff = abs(got[1] - float(line["mean"]))
            worst = max(worst, diff)
            if diff > 1e-9:
                mismatched.append(key)
            checked += 1
    return cells, checked, worst, mismatched


times, rows = timed(QUERY)
cells, checked, worst, mismatched = check(rows)
ranked = sum(1 for r in rows if r[0] == "rank")
score_times, score_rows = timed(SCORES_QUERY)
_, score_checked, score_worst, score_mismatched = check(score_rows)
score_ranked = sum(1 for r in score_rows if r[0] == "rank")

print(
    json.dumps(
        {
            "duckdb": duckdb.__version__,
            "best_seconds": min(times),
            "median_seconds": statistics.median(times),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "cells": len(cells),
            "ranked_units": ranked,
            "checked_means": checked,
            "largest_difference": worst,
            "mismatched": len(mismatched),
            "first_mismatches": mismatched[:5],
            "scores": {
                "best_seconds": min(score_times),
                "median_seconds": statistics.median(score_times),
                "ranked_units": score_ranked,
                "checked_means": score_checked,
                "largest_difference": score_worst,
                "mismatched": len(score_mismatched),
                "first_mismatches": score_mismatched[:5],
            },
        }
    )
)
failed = mismatched or checked == 0 or score_mismatched or score_checked == 0
sys.exit(1 if failed else 0)
