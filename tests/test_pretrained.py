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


def _sample_scores(generator):
    """PSNR-Y of the model and of bicubic on the built-in sample faces at 64 -> 256."""
    out = []
    for path in pipeline.sample_face_paths():
        hr = transforms.prepare_hr(files.read_image(path), 256)
        lr = transforms.degrade(hr, 4).numpy().astype(np.uint8)
        hr = hr.numpy().astype(np.uint8)
        sr = upscale(generator, lr, 4)
        out.append((metrics.psnr(sr, hr, crop_border=4, y_only=True),
                    metrics.psnr(interpolate(lr, 4), hr, crop_border=4, y_only=True)))
    return out


def test_shipped_srresnet_beats_bicubic_on_the_sample_faces():
    generator = load_generator(pretrained.resolve("srresnet")).model
    scores = _sample_scores(generator)
    assert len(scores) == 2
    for model, bicubic in scores:
        assert model >= bicubic + 0.5, scores


def test_shipped_srgan_stays_near_bicubic_fidelity(shipped):
    """The perceptual model trades PSNR for detail, but not much: within 1 dB of bicubic."""
    name, _, generator, _ = shipped
    for model, bicubic in _sample_scores(generator):
        assert model >= bicubic - 1.0, (name, model, bicubic)
