"""The shipped generators: they load with their cards, and they beat bicubic on faces
that are in no training pipeline. These fail when a weights file is missing or wrong."""

import json

import numpy as np
import pytest

from srgan import files, pretrained
from srgan.config import GENERATOR_FIELDS, ModelConfig
from srgan.data import pipeline, transforms
from srgan.evaluation import metrics
from srgan.inference.upscale import interpolate, upscale
from srgan.models.generators import build_generator
from srgan.models.weights import CARD_FORMAT, generator_json, load_generator


pytestmark = pytest.mark.slow  # the full-size shipped generators, on 256 px faces


@pytest.fixture(scope="module", params=sorted(pretrained.SHIPPED))
def shipped(request):
    path = pretrained.resolve(request.param)
    generator = load_generator(path)
    return request.param, path, generator.model, generator.card


def test_each_shipped_file_loads_with_its_card_and_architecture(shipped):
    name, path, generator, card = shipped
    assert path.stat().st_size <= 10 * 1024 * 1024
    raw = json.loads(generator_json(path).read_text())
    assert raw["format"] == CARD_FORMAT and raw["name"] == pretrained.SHIPPED[name]
    for key in ("training", "data", "licence"):
        assert raw.get(key), f"{path}: model card lacks {key!r}"
    # A measured score: validation during training, or evaluate.py summaries (the blind
    # model is scored on degraded faces, which its clean-LR validation would not show).
    assert raw.get("validation") or raw.get("evaluation"), f"{path}: model card has no scores"
    assert "non-commercial" in raw["licence"]
    cfg = ModelConfig(**raw["model"])
    assert generator.count_params() == build_generator(cfg).count_params()
    assert {k: raw["model"][k] for k in GENERATOR_FIELDS} == {
        k: getattr(cfg, k) for k in GENERATOR_FIELDS}
    assert cfg.scale == 4 and raw["hr_size"] == 256


# The shipped models trained on degraded LR (Real-ESRGAN's or GFPGAN's): they sharpen what
# they are given, so on clean bicubic LR they trade fidelity by design (the blind GAN: -1.3
# and -1.8 dB against bicubic on the two sample faces). Their fidelity check is on the
# inputs they are for.
DEGRADED_LR_MODELS = {"blind", "blindgan", "restore"}


def _sample_scores(generator, kind="bicubic", seeds=(None,)):
    """PSNR-Y of the model and of bicubic on the built-in sample faces at 64 -> 256, the LR
    made by ``kind`` from each stateless seed ``(0, s)``."""
    out = []
    for path in pipeline.sample_face_paths():
        hr = transforms.prepare_hr(files.read_image(path), 256)
        for s in seeds:
            seed = None if s is None else np.array([0, s], np.int64)
            lr = transforms.degrade(hr, 4, kind, seed).numpy().astype(np.uint8)
            sr = upscale(generator, lr, 4)
            ref = hr.numpy().astype(np.uint8)
            out.append((metrics.psnr(sr, ref, crop_border=4, y_only=True),
                        metrics.psnr(interpolate(lr, 4), ref, crop_border=4, y_only=True)))
    return out


def test_shipped_srresnet_beats_bicubic_on_the_sample_faces():
    generator = load_generator(pretrained.resolve("srresnet")).model
    scores = _sample_scores(generator)
    assert len(scores) == 2
    for model, bicubic in scores:
        assert model >= bicubic + 0.5, scores


def test_shipped_models_stay_near_bicubic_fidelity_on_their_inputs(shipped):
    """The perceptual models trade PSNR for detail, but not much: within 1 dB of bicubic,
    on clean LR for the clean-LR models, on Real-ESRGAN-degraded LR for the blind ones."""
    name, _, generator, _ = shipped
    scores = (_sample_scores(generator, "realesrgan", seeds=(0, 1, 2))
              if name in DEGRADED_LR_MODELS else _sample_scores(generator))
    for model, bicubic in scores:
        assert model >= bicubic - 1.0, (name, model, bicubic)
