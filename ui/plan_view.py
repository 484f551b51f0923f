"""The Plan page's controls and cards: a jurisdiction, two schedules, the model's answer.

Every control is bound to the address (``plan_j``, ``plan_a``, ``plan_b`` and, for a schedule
of one's own, ``plan_a_teams`` / ``plan_a_hours`` / ``plan_a_days``; ``plan_extra``,
``plan_wait``), so a copied link reopens the same comparison. Streamlit writes a choice into
the address as the words shown for it (``plan_a=2+teams+8-20+every+day``; with peers masked,
the masked name). The controls sit in a ``controls-`` container, which presenter mode hides;
the figures come from ``ui.cache.plan`` (metrics/capacity through service/guarded.py), so
counts follow the disclosure rules.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

import metrics
from charts import capacity as charts
from metrics import capacity
from metrics.disclosure import SMALL
from ui import cache, components, presenter, privacy
from ui.text import escape

PRESETS = ("1x8-20x1234567", "2x8-20x1234567", "3x8-20x1234567", "2x7-23x1234567",
           "3x7-23x1234567", "2x0-24x1234567", "3x0-24x1234567", "2x8-20x12345")
CUSTOM = "custom"
PAGE_RUNS = 12  # runs over resampled weeks for the interval: the page must answer in a second
WEEKDAY_NAMES = dict(zip("1234567", ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")))


def jurisdiction(filters: metrics.Filters) -> str | None:
    """The jurisdiction to plan for: the one chosen in the sidebar, else chosen here."""
    names = list(filters.jurisdictions) or cache.filter_options()["jurisdictions"]
    if not names:
        return None
    shown = presenter.peer_names() or {}
    if len(names) == 1:
        st.markdown(f"**Jurisdiction:** {escape(shown.get(names[0], names[0]))}")
        return names[0]
    return st.selectbox("Jurisdiction", names, key="plan_j", bind="query-params",
                        format_func=lambda j: shown.get(j, j), width=320,
                        help="The model runs on one jurisdiction's own calls.")


def schedule(slot: str, default: str) -> str:
    """One schedule as its short form ('2x8-20x1234567'): a preset or a shift of one's own."""
    key = f"plan_{slot.lower()}"
    choice = st.selectbox(f"Schedule {slot}", [*PRESETS, CUSTOM], key=key, bind="query-params",
                          index=PRESETS.index(default), format_func=_label)
    if choice != CUSTOM:
        return choice
    teams = st.number_input("Teams on duty", 0, capacity.MAX_TEAMS, 2, key=f"{key}_teams",
                            bind="query-params")
    start, end = st.slider("Hours (local)", 0, 24, (8, 20), key=f"{key}_hours",
                           bind="query-params", help="From the first hour to the last; "
                           "0-24 is around the clock.")
    days = st.pills("Weekdays", list(WEEKDAY_NAMES), selection_mode="multi",
                    default=list(WEEKDAY_NAMES), format_func=WEEKDAY_NAMES.get,
                    key=f"{key}_days", bind="query-params")
    if start == end or not days:
        st.caption("No hours or no days chosen: no team on duty.")
        return f"0x0-24x{capacity.DAYS}"
    return capacity.Shift(int(teams), int(start), int(end), "".join(sorted(days))).spec()


def _label(spec: str) -> str:
    return "A schedule of my own" if spec == CUSTOM else capacity.parse_spec(spec).label


def options() -> dict:
    with st.container(horizontal=True):
        extra = st.number_input("Extra minutes per call", 0, 120, 10, step=5, key="plan_extra",
                                bind="query-params", width=220,
                                help="Added to each call's dispatch-to-clear time: wrap-up, "
                                     "notes, getting back in service.")
        wait = st.number_input("Tolerable wait (minutes)", 0, 60, 0, step=5, key="plan_wait",
                               bind="query-params", width=220,
                               help="0: a call that finds every team busy is missed. Above 0: "
                                    "it waits for the first team to free up, up to this long.")
    return {"extra_minutes": float(extra), "max_wait_minutes": float(wait), "runs": PAGE_RUNS}


# --------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------

def count(value) -> str:
    """A published count, or the words for a hidden one (1 to 10: too few to show)."""
    return privacy.words(SMALL) if value is None else f"{value:,.0f}"


def headline(s: dict, name: str, runs: int) -> None:
    with st.container(border=True, key=f"tile-plan-{name[0]}"):
        st.markdown(f"**{escape(name)}**")
        value = "—" if s["coverage"] is None else f"{s['coverage']:.0%}"
        st.metric("Expected coverage of eligible-type calls", value,
                  help="Calls served ÷ eligible-type calls at every hour, over the modelled "
                       "weeks (the runs on the actual call times).")
        if s["coverage"] is not None:
            st.caption(f"95% interval {s['ci_low']:.0%}–{s['ci_high']:.0%} ({runs} runs over "
                       f"resampled weeks); Erlang B by hour: {s['erlang_coverage']:.0%}")
        st.caption(f"{s['team_hours_per_week']:,} team-hours a week · served "
                   f"{count(s['served'])} · missed with every team busy "
                   f"{count(s['missed_no_team_free'])} · with no team on duty "
                   f"{count(s['missed_no_team_on_duty'])}")


def _by_hour(doc: dict, names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = charts.by_hour_frame(doc["schedules"], names)
    return df, df.astype(object).where(df.notna(), privacy.words(SMALL))


def coverage_by_hour(doc: dict, names: list[str]) -> None:
    df, table = _by_hour(doc, names)
    a, b = doc["schedules"]
    components.chart("plan-hours", "Coverage by hour of day",
                     charts.compare_sentence(a, b, names), charts.coverage_by_hour(df), table,
                     note="Expected share of each hour's eligible-type calls a team takes, "
                          "over all weekdays. A gap in a line: too few calls in that hour to "
                          "show.")


def missed_by_hour(doc: dict, names: list[str]) -> None:
    df, table = _by_hour(doc, names)
    components.chart("plan-missed", "Calls missed by hour of day",
                     _missed_sentence(df, names, doc["schedules"]),
                     charts.missed_by_hour(df), table,
                     note=f"Expected over the {doc['weeks']} modelled weeks: calls that found "
                          "every team on duty busy, or came when no team was on duty.")


def _missed_sentence(df: pd.DataFrame, names: list[str], schedules: list[dict]) -> str:
    """Where each schedule misses most while a team is on duty (off-duty hours miss every
    call whatever the teams, and would otherwise always be the answer)."""
    parts = []
    for name, s in zip(names, schedules):
        on = {h for h in range(24) if any(row[h] for row in s["grid"])}
        part = df[(df["schedule"] == name) & df["hour"].isin(on) & df["expected missed"].notna()]
        if part.empty:
            continue
        worst = part.loc[part["expected missed"].astype(float).idxmax()]
        parts.append(f"under {name.split(':')[0]} at {int(worst['hour']):02d}:00 "
                     f"({float(worst['expected missed']):,.0f} calls)")
    if not parts:
        return "Too few calls to show the misses by hour."
    return ("While teams are on duty, the most calls are missed " + ", and ".join(parts) + ". "
            "Hours with no team on duty miss every call.")


def grids(doc: dict, names: list[str]) -> None:
    st.header("Teams on duty")
    for s, name, col in zip(doc["schedules"], names, components.columns(2)):
        with col:
            st.plotly_chart(charts.schedule_grid(s["grid"], name), width="stretch", theme=None,
                            key=f"chart-grid-{name[0]}",
                            config={"displaylogo": False, "displayModeBar": False},
                            alt=f"Teams on duty by weekday and hour under {name}: the number "
                                "of teams is written in each hour's cell.")


def needed(doc: dict) -> None:
    st.header("Team-hours needed for 60%, 70% and 80% coverage")
    st.table(charts.needed_table(doc["needed"]), hide_index=True)
    st.caption("For each target, the fewest team-hours a week among the same number of teams "
               "every day 8-20, 7-23 or around the clock. Coverage counts eligible-type calls "
               "at every hour, so a daytime schedule cannot reach a target above the share of "
               "calls that come in the day.")


def calibration(doc: dict, name: str) -> None:
    st.header("Does the model reproduce the program?")
    cal = doc["calibration"]
    if "unavailable" in cal:
        st.caption(escape(_named(cal["unavailable"], doc["jurisdiction"], name)) +
                   " The model's figures are then estimates with nothing to check them "
                   "against.")
        return
    st.table(pd.DataFrame([
        {"Figure": "Coverage of eligible calls (B1)",
         "Measured": _share(cal["measured_coverage"]), "Model": _share(cal["model_coverage"])},
        {"Figure": "Missed: no team available", "Measured": _share(cal["measured_no_team_share"]),
         "Model": _share(cal["model_no_team_share"])}]), hide_index=True)
    st.caption(f"The program's own schedule as modelled: {escape(cal['schedule'])} (teams "
               f"{escape(cal['teams_source'])}), over the same weeks and the same eligible "
               f"calls ({count(cal['eligible'])}). Calls lost for other reasons (reassigned, "
               "cancelled, resolved by phone) are left out of the model at their measured "
               "rate, so both columns count the same losses.")
    notes = [escape(_named(n, doc["jurisdiction"], name)) for n in cal["notes"]]
    if cal["gap"] is not None and cal["reliable"]:
        st.success(" ".join(notes), icon=":material/check_circle:")
    else:
        st.warning(" ".join(notes) + " The figures above are shown as estimates only.",
                   icon=":material/warning:")


def erlang(doc: dict, names: list[str]) -> None:
    with st.expander("Cross-check: Erlang B / C for a stationary hour", key="plan-erlang"):
        st.markdown(
            "Each hour of the week is taken on its own, as if calls came at its average rate "
            "all hour and nothing carried over from the hour before: offered load = calls an "
            "hour × hours per call (Erlangs); the share served with *c* teams is 1 − B(*c*, "
            "load) with no wait (Erlang B), or, with a tolerable wait, the share answered "
            "within it by Erlang C. Weighted by calls over the week:")
        st.table(pd.DataFrame([{"Schedule": n, "Simulation": _share(s["coverage"]),
                                "Erlang by hour": _share(s["erlang_coverage"])}
                               for n, s in zip(names, doc["schedules"])]), hide_index=True)


def _share(x) -> str:
    return "hidden (too few calls)" if x is None else f"{x:.1%}"


def _named(text: str, real: str, shown: str) -> str:
    return text.replace(real, shown)
