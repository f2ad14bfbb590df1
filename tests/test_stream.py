"""srgan.data.stream: the training stream is a pure function of (seed, position)."""

from pathlib import Path

import numpy as np
import pytest

from srgan import files
from srgan.config import DataConfig
from srgan.data import pipeline, stream


def _brute_advance(n, seed, start, good, bad):
    position = start
    while good:
        if int(stream.pass_order(seed, n, position // n)[position % n]) not in bad:
            good -= 1
        position += 1
    return position


def test_each_pass_is_a_permutation_and_passes_differ():
    orders = [stream.pass_order(3, 7, p).numpy() for p in range(3)]
    assert all(sorted(o) == list(range(7)) for o in orders)
    assert len({tuple(o) for o in orders}) == 3
    assert not np.array_equal(orders[0], stream.pass_order(4, 7, 0).numpy())


def test_positions_from_any_start_are_the_tail_of_the_stream():
    full = [tuple(map(int, e)) for e in stream.positions(5, 1, 0).take(17)]
    assert [i for i, _ in full] == list(range(17))
    assert [f for i, f in full[:5]] == list(stream.pass_order(1, 5, 0).numpy())
    for start in (1, 5, 7):
        tail = [tuple(map(int, e)) for e in stream.positions(5, 1, start).take(17 - start)]
        assert tail == full[start:]


@pytest.mark.parametrize("bad", [set(), {1, 4}, {0, 2, 3, 5, 6}])
def test_advance_counts_good_elements_across_passes(bad):
    for start in (0, 3, 7, 12):
        for good in (0, 1, 2, 5, 9, 23):
            assert stream.advance(7, 3, start, good, bad) == _brute_advance(
                7, 3, start, good, bad), (start, good)


def test_advance_with_every_file_bad_is_an_error():
    with pytest.raises(ValueError, match="every file is bad"):
        stream.advance(3, 0, 0, 1, {0, 1, 2})


@pytest.mark.parametrize("degradation", [
    "bicubic", pytest.param("realesrgan", marks=pytest.mark.slow)])  # its graph: seconds
def test_dataset_resumed_at_a_position_yields_the_same_batches(face_dir, degradation):
    (face_dir / "broken.jpg").write_bytes(b"not a jpeg")  # shifts positions
    paths = files.list_images(face_dir)
    cfg = DataConfig(hr_size=32, crop=16, batch_size=2, degradation=degradation)
    guard = pipeline.DecodeGuard(len(paths), 10**6)
    whole = [(lr.numpy(), hr.numpy()) for lr, hr in
             pipeline.make_dataset(paths, cfg, 4, 7, guard).take(6)]
    bad = {paths.index(p) for p in map(Path, guard.bad)}
    assert bad == {paths.index(face_dir / "broken.jpg")}
    start = stream.advance(len(paths), 7, 0, 3 * cfg.batch_size, bad)
    resumed = [(lr.numpy(), hr.numpy()) for lr, hr in pipeline.make_dataset(
        paths, cfg, 4, 7, pipeline.DecodeGuard(len(paths), 10**6), start).take(3)]
    for (lr_a, hr_a), (lr_b, hr_b) in zip(whole[3:], resumed):
        np.testing.assert_array_equal(hr_a, hr_b)
        np.testing.assert_array_equal(lr_a, lr_b)
    # Crops and flips vary from element to element (they are not all the same draw).
    assert len({hr.tobytes() for _, hrs in whole for hr in hrs}) > 6


def test_repeated_folders_weigh_more_and_a_bad_repeated_file_is_skipped_everywhere():
    """--data-repeat: the first folder's files listed 3 times; a bad file among them is
    skipped at each of its places when the stream position is counted."""
    from types import SimpleNamespace

    import tensorflow as tf

    from srgan.training.run import _stream_position, repeated

    small, large = [Path("hq/a.png"), Path("hq/b.png")], [Path(f"c/{i}.jpg") for i in range(4)]
    lines = []
    paths = repeated([small, large], (3, 1), lines.append)
    assert paths == small * 3 + large
    assert lines == ["data: 10 stream entries from 6 files (--data-repeat 3 1: 60%, 40% of "
                     "the stream by folder)"]
    assert repeated([small, large], (), lines.append) == small + large and len(lines) == 1
    state = SimpleNamespace(batches=tf.Variable(0), data_position=tf.Variable(0))
    guard = SimpleNamespace(bad={"hq/a.png": "broken"})
    position = _stream_position(paths, 0, 2, state, guard)
    state.batches.assign(4)  # 8 good elements consumed: each of a's 3 places is skipped
    bad = {i for i, p in enumerate(paths) if p == small[0]}
    assert position() == stream.advance(len(paths), 0, 0, 8, bad)
    assert position() != stream.advance(len(paths), 0, 0, 8, {max(bad)})
