"""bulk_onboarding_1000: ``bulk_onboarding`` with 1,000 schedules, its own rows in the table.

About an hour and a half on 2 cores (3,000 mapped task instances, the owners' wait of 25 minutes), so
the default run leaves it out: ``make bench BENCH=bulk_onboarding_1000`` (or ``python -m benchmarks
bulk_onboarding_1000``) runs it.
"""

from __future__ import annotations

from benchmarks import bulk_onboarding
from benchmarks.common import Context, Result

NAME = "bulk_onboarding_1000"
SLOW = True
ON_REQUEST = True  # only when named
SCHEDULES = 1000


def run(ctx: Context) -> Result:
    return bulk_onboarding.run(ctx, name=NAME, schedules=SCHEDULES)
