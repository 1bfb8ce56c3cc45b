"""Result rows: idempotent batch writes, concurrent writers, listings and spend."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from api.corpus_store import Corpus, fill_corpus
from reforge.errors import NotFoundError
from reforge.experiments import ExperimentConfig
from reforge.store.blobs import get_blob, text_sha256
from reforge.store.db import Store
from reforge.store.experiments import upsert_experiments
from reforge.store.models import Blob, Result
from reforge.store.results import (
    ResultIn,
    final_function_uids,
    is_final,
    list_results,
    save_results,
    total_spent_usd,
    unknown_function_uids,
)

EXPERIMENT = ExperimentConfig(id="store_results", model="openai/gpt-4o-mini")


@pytest.fixture
def corpus(store: Store) -> Corpus:
    filled = fill_corpus(store)
    with store.session() as session:
        upsert_experiments(session, [EXPERIMENT])
    return filled


def _ok(uid: str, name: str = "a_name", **fields: object) -> ResultIn:
    return ResultIn(
        dwarf_function_id=uid, status="ok", predicted_name=name, parse_ok=True, **fields
    )


def _failed(uid: str, kind: str) -> ResultIn:
    return ResultIn(dwarf_function_id=uid, status="failed", error_kind=kind, error_message=kind)


def _save(store: Store, items: list[ResultIn], experiment_id: str = EXPERIMENT.id):
    with store.session() as session:
        return save_results(session, experiment_id, items)


def _count(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Result)) or 0


def test_insert_batch(store: Store, corpus: Corpus) -> None:
    uids = [f.uid for f in corpus.select(opt="O0")]
    outcome = _save(store, [_ok(uid) for uid in uids])
    assert (outcome.inserted, outcome.replaced, outcome.skipped) == (len(uids), 0, 0)
    assert _count(store) == len(uids)


def test_same_batch_twice(store: Store, corpus: Corpus) -> None:
    items = [_ok(f.uid) for f in corpus.select(opt="O0")]
    _save(store, items)
    again = _save(store, items)
    assert (again.inserted, again.skipped) == (0, len(items))
    assert _count(store) == len(items)


def test_duplicate_inside_one_batch(store: Store, corpus: Corpus) -> None:
    uid = corpus.select()[0].uid
    outcome = _save(store, [_ok(uid, "first"), _ok(uid, "second")])
    assert (outcome.inserted, outcome.skipped) == (1, 1)
    with store.session() as session:
        assert session.scalar(select(Result.predicted_name)) == "first"


@pytest.mark.parametrize("kind", ["rate_limit", "transient", "timeout"])
def test_retryable_failure_replaced(store: Store, corpus: Corpus, kind: str) -> None:
    uid = corpus.select()[0].uid
    _save(store, [_failed(uid, kind)])
    outcome = _save(store, [_ok(uid, "answered_later")])
    assert outcome.replaced == 1
    with store.session() as session:
        row = session.scalar(select(Result))
        assert (row.status, row.predicted_name, row.error_kind) == ("ok", "answered_later", None)
        assert is_final(row)
    assert _count(store) == 1


def test_permanent_failure_kept(store: Store, corpus: Corpus) -> None:
    uid = corpus.select()[0].uid
    _save(store, [_failed(uid, "permanent")])
    outcome = _save(store, [_ok(uid)])
    assert outcome.skipped == 1
    with store.session() as session:
        assert session.scalar(select(Result.status)) == "failed"


def test_runs_are_separate(store: Store, corpus: Corpus) -> None:
    uid = corpus.select()[0].uid
    _save(store, [_ok(uid, run_id="main"), _ok(uid, run_id="second")])
    assert _count(store) == 2


def test_unknown_function_skipped(store: Store, corpus: Corpus) -> None:
    known = corpus.select()[0].uid
    outcome = _save(store, [_ok(known), _ok("ghost:O0:nopie:0x1")])
    assert (outcome.inserted, outcome.skipped) == (1, 1)
    assert outcome.unknown_functions == ["ghost:O0:nopie:0x1"]
    with store.session() as session:
        assert unknown_function_uids(session, [known, "ghost:O0:nopie:0x1", "b"]) == [
            "b",
            "ghost:O0:nopie:0x1",
        ]


def test_function_outside_selection_skipped(store: Store, corpus: Corpus) -> None:
    narrow = ExperimentConfig(id="gold_o0", model="openai/gpt-4o-mini", tier="GOLD", opt="O0")
    with store.session() as session:
        upsert_experiments(session, [narrow])
    inside = corpus.select(opt="O0", tier="GOLD")[0].uid
    other_level = corpus.select(opt="O2")[0].uid
    untiered = next(f.uid for f in corpus.functions if f.tier is None and f.opt == "O0")

    outcome = _save(store, [_ok(inside), _ok(other_level), _ok(untiered)], narrow.id)

    assert (outcome.inserted, outcome.skipped) == (1, 2)
    assert outcome.outside_selection == sorted([other_level, untiered])
    assert outcome.unknown_functions == []
    with store.session() as session:
        assert session.scalars(select(Result.function_uid)).all() == [inside]


def test_unknown_experiment(store: Store, corpus: Corpus) -> None:
    with pytest.raises(NotFoundError, match="no_such_experiment"):
        _save(store, [_ok(corpus.select()[0].uid)], experiment_id="no_such_experiment")


def test_texts_stored_once(store: Store, corpus: Corpus) -> None:
    prompt = "Name this function:\n```c\nvoid FUN_00401000(void) { return; }\n```\n"
    items = [_ok(f.uid, prompt=prompt, response="do_nothing") for f in corpus.select(opt="O0")]
    _save(store, items)
    with store.session() as session:
        digests = set(session.scalars(select(Result.prompt_sha256)))
        assert digests == {text_sha256(prompt)}
        assert get_blob(session, text_sha256(prompt)) == prompt
        stored = session.scalar(
            select(func.count()).select_from(Blob).where(Blob.sha256 == text_sha256(prompt))
        )
        assert stored == 1


def test_concurrent_writers_one_row_each(store: Store, corpus: Corpus) -> None:
    uids = [f.uid for f in corpus.select()]
    writers = 4
    barrier = threading.Barrier(writers)
    outcomes = []
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            barrier.wait()
            items = [_ok(uid, f"writer_{number}", prompt=f"p{number}") for uid in uids]
            outcomes.append(_save(store, items))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(o.inserted for o in outcomes) == len(uids)
    assert sum(o.skipped for o in outcomes) == len(uids) * (writers - 1)
    with store.session() as session:
        per_function = dict(
            session.execute(
                select(Result.function_uid, func.count()).group_by(Result.function_uid)
            ).all()
        )
    assert per_function == {uid: 1 for uid in uids}


def test_list_and_final(store: Store, corpus: Corpus) -> None:
    first, second, third = (f.uid for f in corpus.select()[:3])
    _save(store, [_ok(first), _failed(second, "timeout"), _failed(third, "permanent")])
    with store.session() as session:
        rows = list_results(session, EXPERIMENT.id)
        assert [row["dwarf_function_id"] for row in rows] == [first, second, third]
        assert list_results(session, EXPERIMENT.id, limit=1, offset=1)[0]["status"] == "failed"
        assert final_function_uids(session, EXPERIMENT.id, "main") == {first, third}
        assert final_function_uids(session, EXPERIMENT.id, "other") == set()


def test_total_spent(store: Store, corpus: Corpus) -> None:
    other = ExperimentConfig(id="other", model="openai/gpt-4o")
    with store.session() as session:
        upsert_experiments(session, [other])
        assert total_spent_usd(session) == 0.0
    first, second = (f.uid for f in corpus.select()[:2])
    _save(store, [_ok(first, cost_usd=0.25), _ok(second, cost_usd=None)])
    _save(store, [_ok(first, cost_usd=1.5)], experiment_id="other")
    with store.session() as session:
        assert total_spent_usd(session) == 1.75
        assert total_spent_usd(session, experiment_id=EXPERIMENT.id) == 0.25
