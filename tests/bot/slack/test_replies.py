from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.slack.replies import AnswerLoad


def test_answer_load_is_busy_at_capacity_and_frees_up_when_answers_finish() -> None:
    load = AnswerLoad(capacity=2)
    release = threading.Event()

    def slow() -> dict[str, Any]:
        release.wait(5)
        return {"text": "done"}

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert not load.busy()
        first = load.submit(pool, slow)
        assert not load.busy()
        second = load.submit(pool, slow)
        assert load.busy()
        release.set()
        assert first.result(5) == second.result(5) == {"text": "done"}
    assert not load.busy()
