"""briefs/render.py: an image has a deadline. A browser that never answers is replaced once;
then the image fails with a sentence, instead of a brief or a slide waiting forever."""
from __future__ import annotations

import asyncio

import plotly.graph_objects as go
import pytest

from briefs import render


class FakeKaleido:
    def __init__(self, answers: bool):
        self.answers, self.closed = answers, False

    async def calc_fig(self, spec, opts):
        if not self.answers:
            await asyncio.Event().wait()  # a page that never comes
        return f"<svg width='{opts['width']}'/>".encode()

    async def close(self):
        self.closed = True


@pytest.fixture
def browsers(monkeypatch):
    """Fake browsers in the order given: True answers, False never does."""
    made: list[FakeKaleido] = []
    plan: list[bool] = []

    async def fake_open():
        made.append(FakeKaleido(plan.pop(0)))
        return made[-1]

    monkeypatch.setattr(render, "_open", fake_open)
    monkeypatch.setattr(render, "IMAGE_TIMEOUT_S", 0.5)
    monkeypatch.setattr(render, "_browser", None)  # the real one, if any, is left alone
    yield plan, made
    render._restart()


def _bar() -> go.Figure:
    return go.Figure(go.Bar(x=[1, 2], y=["a", "b"], orientation="h"))


def test_a_browser_that_never_answers_is_replaced_once(browsers):
    plan, made = browsers
    plan += [False, True]
    assert render._image(_bar(), "svg", 640, 300) == b"<svg width='640'/>"
    assert len(made) == 2
    assert made[0].closed and not made[1].closed  # the stuck one was closed, the new one kept
    assert render._image(_bar(), "svg", 320, 300) == b"<svg width='320'/>"
    assert len(made) == 2  # and it serves the next image


def test_two_browsers_that_never_answer_give_a_sentence(browsers):
    plan, made = browsers
    plan += [False, False]
    with pytest.raises(render.RenderError, match="drew nothing within 0.5 s, twice"):
        render._image(_bar(), "svg", 640, 300)
    assert len(made) == 2
