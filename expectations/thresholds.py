"""Every number a gate judges by, in one place, each with the reason it has that value.

Row-level rules (keys, not-null, accepted values) are dbt tests and fail on any row. The gates
judge the layer as a whole: one odd row is an outlier for quarantine, not a reason to stop gold
for everyone; a share of odd rows, a collapse or a stall is a systemic problem.
"""

from __future__ import annotations

from datetime import timedelta

# --- bronze: every record says where and when it came from -------------------------------------

# Collectors stamp fetched_at with their own clock; machines synced by NTP differ by well under a
# second, but a raw file may come from a laptop whose clock drifts. Ten minutes ahead of the
# gate's clock is drift; more is a broken clock or a typed-in date.
BRONZE_FUTURE_TOLERANCE = timedelta(minutes=10)

# --- the systemic rule for row shares ------------------------------------------------------------

# One odd row is always tolerated, whatever share of the table it is: in a small table a single
# outlier would otherwise be a large share.
ODD_ROWS_TOLERATED = 1

# Out-of-bounds values (negative counts, absurd rates) above this share of a table's rows mean
# the data is misread, not that a creator had a strange day: a parser or a platform change hits
# every row of an endpoint, outliers hit a few in a thousand.
ODD_SHARE_MAX = 0.01

# --- bounds --------------------------------------------------------------------------------------

# Engagement rates are percentages and may pass 100 (a viral post reaches beyond the followers),
# but interactions ten times the followers, reach or views on more than ODD_SHARE_MAX of the posts
# means followers or interactions are read in the wrong unit.
ENGAGEMENT_RATE_MAX = 1000

# Shares are exact numerics divided in the database: 3 x 1/3 leaves a remainder far below this.
SHARE_SUM_TOLERANCE = 1e-9

# Scores (brand fit, quality) are defined on 0-100 and shares (interest, sponsored, audience in
# a target, viral) on 0-1: a value outside is a formula or a join gone wrong, never a creator.
SCORE_MIN, SCORE_MAX = 0, 100
SHARE_MIN, SHARE_MAX = 0, 1

# fit_score is 100 x the mean of its components, each rounded to 4 decimals, the score to 2:
# recomputed from the stored components it may differ by rounding alone, at most 0.005 + 100 x
# 0.00005 = 0.01. More means the score and the components shown no longer agree.
FIT_SCORE_SUM_TOLERANCE = 0.01

# --- volume against the previous accepted build --------------------------------------------------

# Silver and gold are functions of an append-only bronze: they only shrink when a transform drops
# rows (a join gone wrong, a filter inverted) or when most data was erased on purpose. Fewer than
# half the rows of the last accepted build fails; `analisa erase` lowers each baseline by the rows
# it removed (privacy/database.py), so a deliberate erasure is accepted.
VOLUME_MIN_RATIO = 0.5

# --- freshness -----------------------------------------------------------------------------------

# A layer is built from bronze in the same run, so its newest capture should match the newest
# usable bronze answer of the endpoints feeding it. Collection runs every 6 hours: lagging more
# than two rounds behind means new answers stopped reaching the layer (a watermark or parse
# broken), not that one round was late.
FRESHNESS_MAX_LAG = timedelta(hours=12)

# --- quarantine share ----------------------------------------------------------------------------

# Judged on each endpoint's latest answers (this long before its newest fetched_at, four
# collection rounds): a platform changing its response shape makes every new answer unusable,
# which a share over years of history would hide for months.
QUARANTINE_WINDOW = timedelta(hours=24)

# Truncated or odd answers happen, a few in a hundred on a bad network day; a tenth of an
# endpoint's latest answers unusable means a shape change or a broken collector.
QUARANTINE_MAX_SHARE = 0.10
