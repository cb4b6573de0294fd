"""From the expert's blind-review verdicts to preference examples, and from those to the supervised set."""

from __future__ import annotations

import pytest

from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.preference import from_review as fr
from gemtune_desktop.core.preference.model import PreferenceExample, PreferenceSettings
from gemtune_desktop.core.project import evals_repo
from gemtune_desktop.core.project import preference_repo as prefs
from gemtune_desktop.core.project.evals_repo import EvalRow, EvalRun
from gemtune_desktop.core.project.store import ProjectStore


def reviewed_run(store: ProjectStore) -> EvalRun:
    """A two-model run over five examples, answered and judged as a user would have in the Test tab."""
    run = EvalRun(models=["gemini-3.5-flash", "projects/p/locations/us/endpoints/7"], source="validation",
                  name="Lease check", settings={"labels": ["Base", "Tuned"], "example_ids": [1, 2, 3, 4, 5]})
    evals_repo.create_run(store, run)
    rows = [EvalRow(run.id, 1, 0, "Who pays repairs?", "Tenant", "The landlord, usually."),
            EvalRow(run.id, 1, 1, "Who pays repairs?", "Tenant", "The tenant, under 500 euros."),
            EvalRow(run.id, 2, 0, "Notice period?", "3 months", "Three months."),
            EvalRow(run.id, 2, 1, "Notice period?", "3 months", "It depends."),
            EvalRow(run.id, 3, 0, "Deposit?", "2 months", "Two months."),
            EvalRow(run.id, 3, 1, "Deposit?", "2 months", "2 months."),
            EvalRow(run.id, 4, 0, "Pets?", "Allowed", "Allowed."),
            EvalRow(run.id, 4, 1, "Pets?", "Allowed", "", error="The model did not answer (503)."),
            EvalRow(run.id, 5, 0, "Sublet?", "No", "Only with consent."),
            EvalRow(run.id, 5, 1, "Sublet?", "No", "Only with consent.")]
    evals_repo.store_rows(store, rows)
    for example_id, choice in ((1, "b"), (2, "a"), (3, "tie"), (4, "a"), (5, "b")):
        evals_repo.set_review(store, run.id, example_id, choice)
    return run


def test_all_votes_at_once_picked_answer_preferred_ties_skipped(store: ProjectStore) -> None:
    run = reviewed_run(store)
    harvest = fr.examples_from_votes(run, evals_repo.list_rows(store, run.id), evals_repo.reviews(store, run.id))
    assert [(e.prompt, e.preferred, e.dispreferred) for e in harvest.examples] == [
        ("Who pays repairs?", "The tenant, under 500 euros.", "The landlord, usually."),
        ("Notice period?", "Three months.", "It depends.")]
    assert (harvest.ties, harvest.incomplete, harvest.identical, harvest.already) == (1, 1, 1, 0)
    first = harvest.examples[0]
    assert first.source == f"review:{run.id}:1" and first.split is Split.TRAIN
    assert "Tuned's answer preferred over Base's" in first.note
    summary = harvest.summary()
    assert summary.startswith("2 new preference examples; skipped: 1 tie, 1 with an answer missing, failed or "
                              "blocked, 1 where both answers are the same.")
    assert "validation or test examples" in summary  # the run evaluated held-out examples


def test_converting_again_adds_nothing_and_the_session_count_is_kept(store: ProjectStore) -> None:
    run = reviewed_run(store)
    rows, votes = evals_repo.list_rows(store, run.id), evals_repo.reviews(store, run.id)
    first = fr.examples_from_votes(run, rows, votes)
    prefs.insert(store, first.examples, prefs.positions_before(store, None, len(first.examples)))
    again = fr.examples_from_votes(run, rows, votes, existing_sources=prefs.sources(store))
    assert again.examples == [] and again.already == 2
    assert fr.count_from_run(prefs.sources(store), run.id) == 2
    assert fr.count_from_run(prefs.sources(store), run.id + 1) == 0


def test_one_click_converts_one_vote(store: ProjectStore) -> None:
    run = reviewed_run(store)
    one = fr.examples_from_votes(run, evals_repo.list_rows(store, run.id), evals_repo.reviews(store, run.id),
                                 only=[2])
    assert [e.preferred for e in one.examples] == ["Three months."] and one.ties == 0
    answers = fr.group_answers(evals_repo.list_rows(store, run.id))
    example, why = fr.example_from_vote(run, answers[3], "tie")
    assert example is None and why == "tie"
    with pytest.raises(ValueError):
        fr.example_from_vote(run, answers[1], "maybe")


def test_a_blocked_answer_is_not_turned_into_a_dispreferred_answer(store: ProjectStore) -> None:
    run = EvalRun(models=["a", "b"], source="rows", settings={"example_ids": [1]})  # rows the user picked
    evals_repo.create_run(store, run)
    evals_repo.store_rows(store, [EvalRow(run.id, 1, 0, "Q", "x", "Fine answer."),
                                  EvalRow(run.id, 1, 1, "Q", "x", "partial", blocked="HARM_CATEGORY_HARASSMENT")])
    harvest = fr.examples_from_votes(run, evals_repo.list_rows(store, run.id), {1: "a"})
    assert harvest.examples == [] and harvest.incomplete == 1 and not harvest.held_out


def test_a_correction_is_preferred_against_each_models_answer(store: ProjectStore) -> None:
    run = reviewed_run(store)
    answers = fr.group_answers(evals_repo.list_rows(store, run.id))
    harvest = fr.examples_from_correction(run, answers[1], "The tenant pays repairs under 500 euros; the landlord "
                                                           "pays the rest.")
    assert [(e.preferred[:10], e.dispreferred, e.source) for e in harvest.examples] == [
        ("The tenant", "The landlord, usually.", f"correction:{run.id}:1:0"),
        ("The tenant", "The tenant, under 500 euros.", f"correction:{run.id}:1:1")]
    assert "against Base's answer" in harvest.examples[0].note
    only_tuned = fr.examples_from_correction(run, answers[1], "Corrected.", slots=[1])
    assert [e.dispreferred for e in only_tuned.examples] == ["The tenant, under 500 euros."]
    # the same text as an answer teaches nothing; a failed answer cannot be rejected; blank corrections do nothing
    same = fr.examples_from_correction(run, answers[2], "Three months.")
    assert [e.dispreferred for e in same.examples] == ["It depends."] and same.identical == 1
    failed = fr.examples_from_correction(run, answers[4], "Allowed, with consent.")
    assert [e.dispreferred for e in failed.examples] == ["Allowed."] and failed.incomplete == 1
    assert fr.examples_from_correction(run, answers[1], "  ").examples == []
    stored = fr.examples_from_correction(run, answers[1], "X", existing_sources={f"correction:{run.id}:1:0"})
    assert stored.already == 1 and len(stored.examples) == 1


def test_the_supervised_set_is_prompt_and_preferred_answer_once_each() -> None:
    settings = PreferenceSettings(system_instruction="Be exact.")
    examples = [PreferenceExample("Q1", "Good", "Bad", split=Split.VALIDATION, tags="t", note="n"),
                PreferenceExample("Q1", "Good", "Worse"),  # same prompt and preferred answer: kept once
                PreferenceExample("Q2", "Fine", "Poor", "Be exact."),
                PreferenceExample("Q3", "Ok", "No", "Another instruction.")]
    sup = fr.supervised_from_preferences(examples, settings)
    assert [(e.input, e.output, e.split, e.tags, e.note) for e in sup.examples] == [
        ("Q1", "Good", Split.VALIDATION, "t", "n"), ("Q2", "Fine", Split.TRAIN, "", ""),
        ("Q3", "Ok", Split.TRAIN, "", "")]
    assert sup.merged == 1 and sup.own_system == 1
