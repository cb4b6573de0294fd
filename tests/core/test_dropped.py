"""Examples the service dropped: 1-based indices, the service's reasons, matched to the project's rows."""

from __future__ import annotations

from gemtune_desktop.core.dropped import dropped_examples


def test_indices_are_1_based_and_map_to_the_training_rows_in_file_order() -> None:
    stats = {"total_truncated_example_count": 3, "truncated_example_indices": ["1", "4"],
             "dropped_example_reasons": ["too many tokens", "contains an invalid image"]}
    rows = [101, 102, 103, 104, 105]  # the train split's example ids, in the order they were uploaded
    found = dropped_examples(stats, rows, train_count=5)
    assert found.rows_match and found.total == 3
    assert [(d.index, d.row_id, d.reason) for d in found.items] == [(1, 101, "too many tokens"),
                                                                    (4, 104, "contains an invalid image")]
    assert found.items[0].words == "Training example 1: too many tokens"
    assert found.summary == ("The service dropped 3 training examples: they were left out of training. "
                             "It listed 2 of them.")


def test_a_changed_split_is_not_matched_to_rows() -> None:
    stats = {"totalTruncatedExampleCount": "1", "truncatedExampleIndices": [2], "droppedExampleReasons": []}
    found = dropped_examples(stats, [1, 2, 3], train_count=4)
    assert not found.rows_match and found.items[0].row_id is None and found.items[0].words == "Training example 2"
    assert found.summary.endswith("so they cannot be matched to rows.")
    assert dropped_examples({}, [1]).summary == ""
