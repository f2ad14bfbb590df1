import dataclasses
import json
import re

import pytest

from srgan.cli import config_from_args, evaluate_parser, predict_parser, train_parser
from srgan.config import (Config, DataConfig, LossConfig, ModelConfig, TrainConfig,
                          save_config)
from srgan.evaluation.evaluate import EvaluateOptions
from srgan.inference.predict import PredictOptions


def test_defaults_are_the_papers():
    cfg = Config()
    assert (cfg.model.num_blocks, cfg.model.num_filters, cfg.model.scale) == (16, 64, 4)
    assert cfg.data.hr_size == 256
    assert cfg.loss.adv_weight == 1e-3
    assert cfg.model.upsample == "subpixel"


@pytest.mark.parametrize("kwargs, words", [
    (dict(model=ModelConfig(scale=3)), "scale"),
    (dict(model=ModelConfig(upsample="bilinear")), "upsample"),
    (dict(data=DataConfig(hr_size=100)), "multiple of 16"),
    (dict(data=DataConfig(crop=512)), "larger than hr_size"),
    (dict(data=DataConfig(data_dirs=("a", "b"), data_repeat=(2,))), "each of the 2 data"),
    (dict(data=DataConfig(data_dirs=("a",), data_repeat=(0,))), "at least 1"),
])
def test_invalid_configs_fail_in_one_line(kwargs, words):
    with pytest.raises(ValueError, match=words) as err:
        Config(**kwargs)
    assert "\n" not in str(err.value)


def test_flags_build_config_and_json_round_trips(tmp_path):
    args = train_parser().parse_args(
        ["--hr-size", "128", "--scale", "2", "--upsample", "nearest", "--epochs", "3",
         "--crop", "64", "--feature-scale", "0.5", "--g-lr", "2e-4", "--data", "faces"])
    cfg = config_from_args(args)
    assert (cfg.data.hr_size, cfg.data.crop, cfg.data.data_dirs) == (128, 64, ("faces",))
    assert (cfg.model.scale, cfg.model.upsample, cfg.train.epochs) == (2, "nearest", 3)
    assert (cfg.loss.feature_scale, cfg.train.g_lr) == (0.5, 2e-4)
    assert cfg.model.num_blocks == 16  # unset flags keep the dataclass default
    save_config(cfg, tmp_path / "config.json", resolved={"backbone": "vgg19"})
    record = json.loads((tmp_path / "config.json").read_text())
    assert record.pop("resolved") == {"backbone": "vgg19"}
    assert record == json.loads(json.dumps(cfg.to_dict()))
    assert record["data"]["data_dirs"] == ["faces"] and record["model"]["scale"] == 2


@pytest.mark.parametrize("cls", [DataConfig, ModelConfig, LossConfig, TrainConfig,
                                 PredictOptions, EvaluateOptions])
def test_every_field_has_its_help_once_and_the_cli_shows_it(cls):
    parser = {PredictOptions: predict_parser, EvaluateOptions: evaluate_parser}.get(
        cls, train_parser)()
    # argparse may wrap a line after a word's hyphen ("Real-ESRGAN" -> "Real- ESRGAN").
    text = re.sub(r"(\w)- (\w)", r"\1-\2", " ".join(parser.format_help().split()))
    for f in dataclasses.fields(cls):
        assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"
        flag = f.metadata.get("flags", ("--" + f.name.replace("_", "-"),))[-1]
        assert flag in text and " ".join(f.metadata["help"].split()) in text, f.name
