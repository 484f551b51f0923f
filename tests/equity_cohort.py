"""A generated cohort where adding jurisdictions up shows a disparity that exists in neither.

Within each jurisdiction Black and White residents served by the team have exactly the same
police back-up rate (Eastport 10%, Westfield 2%), but Eastport, with the high back-up rate,
serves mostly Black residents and Westfield mostly White ones. Added up, Black residents'
rate is 320/4,000 = 8.0% and White residents' 130/5,300 = 2.45%: a crude ratio of 3.26 that
is all jurisdiction (Simpson's paradox). Asian residents in Eastport: 3 back-ups of 40, a
count a public view hides.
"""
from __future__ import annotations

from data.connection import connect

# jurisdiction -> group -> (team responses, police back-ups)
COHORT = {
    "Eastport": {"black": (3000, 300), "white": (300, 30), "asian": (40, 3)},
    "Westfield": {"black": (1000, 20), "white": (5000, 100)},
}
CRUDE_BLACK = (300 + 20) / (3000 + 1000) / ((30 + 100) / (300 + 5000))  # 3.26


def write_confounded(path) -> None:
    con = connect(path)
    for j in COHORT:
        con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone) VALUES "
                    "(?, 'America/Chicago')", [j])
    for j, groups in COHORT.items():
        for group, (responses, backups) in groups.items():
            # One statement per group: range() numbers its responses, the first `backups`
            # of them had police back-up requested.
            con.execute(
                "INSERT INTO responses (jurisdiction, response_id, requested_at, "
                "requested_local, police_backup, race_ethnicity, gender, import_id) "
                "SELECT ?, ? || i, TIMESTAMPTZ '2025-03-01 12:00:00+00' + to_minutes(i), "
                "TIMESTAMP '2025-03-01 06:00:00' + to_minutes(i), i < ?, ?, "
                "CASE WHEN i % 3 = 0 THEN 'male' ELSE 'female' END, 1 FROM range(?) t(i)",
                [j, f"{j}-{group}-", backups, group, responses])
    con.close()
