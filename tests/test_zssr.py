"""ZSSR: the network, the flips/rotations, training on one image, predict.py --method zssr."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from srgan.cli import predict_main
from srgan.data import transforms
from srgan.evaluation import metrics
from srgan.inference.upscale import interpolate, upscale
from srgan.inference.zssr import ZSSRConfig, dihedral, zssr_generator
from srgan.models.zssr import build_zssr_net

# Few, small steps: each test trains for a few seconds on 2 CPU cores.
TINY = dict(steps=60, crop=16, check_every=20)


def repeated_structure(repeats: int = 4) -> np.ndarray:
    """uint8 ``(12 * repeats, 12 * repeats, 3)``: one random 12 px motif, tiled."""
    motif = np.random.default_rng(0).integers(0, 256, (6, 6, 3), np.uint8)
    tile = np.repeat(np.repeat(motif, 2, axis=0), 2, axis=1)
    return np.tile(tile, (repeats, repeats, 1))


def test_network_is_eight_convs_that_start_at_their_input():
    net = build_zssr_net()
    convs = [l for l in net.layers if isinstance(l, tf.keras.layers.Conv2D)]
    assert len(convs) == 8 and {c.filters for c in convs[:-1]} == {64}
    x = np.random.default_rng(0).uniform(-1, 1, (1, 9, 13, 3)).astype(np.float32)
    assert np.abs(net(x).numpy() - x).max() < 0.05  # residual of a fresh net is tiny


def test_dihedral_gives_eight_distinct_views_each_undone():
    x = tf.reshape(tf.range(2 * 3 * 4 * 1, dtype=tf.float32), (2, 3, 4, 1))
    x = tf.concat([x, x[:, :, :3]], axis=2)[:, :, :, :]  # (2, 3, 7, 1): not square
    views = [dihedral(x, k) for k in range(8)]
    assert len({v.numpy().tobytes() + bytes(v.shape) for v in views}) == 8
    for k, v in enumerate(views):
        np.testing.assert_array_equal(dihedral(v, k, inverse=True).numpy(), x.numpy())


@pytest.mark.slow
def test_zssr_beats_bicubic_on_repeated_structure():
    hr = repeated_structure()
    lr = transforms.degrade(hr.astype(np.float32), 2).numpy().round().astype(np.uint8)
    generator = zssr_generator(ZSSRConfig(scale=2, **TINY))
    sr = upscale(generator.model, lr, 2)
    bicubic = interpolate(lr, 2)
    assert sr.shape == hr.shape
    zssr_db = metrics.psnr(sr, hr, crop_border=2, y_only=True)
    bicubic_db = metrics.psnr(bicubic, hr, crop_border=2, y_only=True)
    assert zssr_db > bicubic_db + 0.5, (zssr_db, bicubic_db)


@pytest.mark.slow
def test_x4_runs_two_stages_reports_progress_and_keeps_alpha():
    seen = []
    cfg = ZSSRConfig(scale=4, steps=3, crop=8, check_every=1, patience=1)
    rgba = np.dstack([repeated_structure(1), np.full((12, 12), 200, np.uint8)])
    sr = upscale(zssr_generator(cfg, lambda d, n, note: seen.append((d, n, note))).model,
                 rgba, 4)
    assert sr.shape == (48, 48, 4) and np.all(sr[..., 3] == 200)
    assert seen[-1][0] == seen[-1][1] == 2 * (3 + 1)
    assert any("stage 2/2" in note for _, _, note in seen)


def test_too_small_image_is_refused():
    generator = zssr_generator(ZSSRConfig(scale=2, **TINY))
    with pytest.raises(ValueError, match="at least 8x8"):
        upscale(generator.model, np.zeros((4, 9, 3), np.uint8), 2)


@pytest.mark.slow
def test_predict_cli_method_zssr(tmp_path, capsys):
    Image.fromarray(repeated_structure(2)).save(tmp_path / "photo.png")
    argv = ["--method", "zssr", "-i", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out"),
            "--scale", "2", "--zssr-steps", "4", "--zssr-crop", "8"]
    assert predict_main(argv) == 0
    with Image.open(tmp_path / "out" / "photo_x2.png") as out:
        assert out.size == (48, 48)
    assert "ZSSR x2" in capsys.readouterr().out
    assert predict_main(argv + ["--model", "srgan"]) == 2
    assert "takes no --model" in capsys.readouterr().err
    assert predict_main(["-i", str(tmp_path / "photo.png"), "--scale", "2"]) == 2
    assert "--scale is ZSSR's" in capsys.readouterr().err
