"""recipes/*.toml: every shipped recipe loads and builds each stage's Config, agrees with
the model card of the weights it made, refuses what is wrong with one line, and
train.py --config runs its stages (flags on top), recording the stage in the cards."""

import json
from pathlib import Path

import pytest

from conftest import TINY_MODEL
from srgan import pretrained, recipes
from srgan.cli import runs_from_args, train_main, train_parser
from srgan.config import GENERATOR_FIELDS

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "recipes").glob("*.toml"))
ENV = {"FACES_HQ": "/data/faces-hq", "CELEBA_ALIGNED": "/data/celeba",
       "ALIGNED_TRAIN": "/data/aligned/train", "ALIGNED_VAL": "/data/aligned/val"}
SRRESNET_STAGES = len(recipes.load("srresnet_x4_faces"))  # the recipe that tests below run


def test_every_shipped_model_has_a_recipe():
    assert {p.stem for p in SHIPPED} == set(pretrained.SHIPPED.values())


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_stage_builds_its_config_and_starts_from_an_earlier_one(path):
    stages = recipes.load(path)
    assert stages[0].name == path.stem and [s.number for s in stages] == list(
        range(1, len(stages) + 1))
    configs = [stage.config(environ=ENV) for stage in stages]
    folders = [cfg.train.checkpoint_dir for cfg in configs]
    for stage, cfg in zip(stages, configs):
        assert stage.about and set(cfg.data.data_dirs) <= set(ENV.values())
        init = cfg.train.init_from
        if stage.number > 1 and init is not None:
            # A later stage starts from a generator an earlier stage (or the same folder,
            # resumed) writes.
            assert str(Path(init).parent) in folders[:stage.number], (stage.where(), init)


@pytest.mark.parametrize("name", sorted(pretrained.SHIPPED.values()))
def test_recipe_agrees_with_the_card_of_the_weights_it_made(name):
    card = json.loads((ROOT / "weights" / f"{name}.json").read_text())
    stages = recipes.load(name)
    entries = [e["training"] for e in card.get("earlier_stages", [])] + [card["training"]]
    numbers = [t["recipe_stage"] for t in entries]
    assert numbers == sorted(set(numbers)) and numbers[-1] == len(stages)
    for t in entries:
        assert t["recipe"] == f"{name}.toml"
        cfg = stages[t["recipe_stage"] - 1].config(environ=ENV)
        where = f"{name} stage {t['recipe_stage']}"
        assert (t["crop"], t["batch_size"], t["pixel_loss"], t["ema_decay"]) == (
            cfg.data.crop, cfg.data.batch_size, cfg.train.pixel_loss, cfg.train.ema_decay), where
        assert len(t["data"]) == len(cfg.data.data_dirs), where
        gan = t["phase"] == "gan"
        assert gan == (cfg.train.epochs > 0), where
        epochs = cfg.train.epochs if gan else cfg.train.pretrain_epochs
        assert t["step"] <= epochs * cfg.train.steps_per_epoch, where
    last = stages[-1].config(environ=ENV)
    assert {k: card["model"][k] for k in GENERATOR_FIELDS} == {
        k: getattr(last.model, k) for k in GENERATOR_FIELDS}
    if last.loss.feature_layers:
        assert card["perceptual"]["layers"] == list(last.loss.feature_layers)
        assert card["perceptual"]["normalized"] == last.loss.feature_norm
    assert card["perceptual"]["backbone"] == last.loss.perceptual
    assert bool(card.get("aligned_faces")) == last.data.aligned_faces


def _runs(*argv):
    return runs_from_args(train_parser().parse_args(list(argv)))


def test_flags_override_the_recipe_and_fill_its_placeholders(monkeypatch):
    monkeypatch.delenv("FACES_HQ", raising=False)
    ((cfg, stage),) = _runs("--config", "srresnet_x4_faces", "--stage", "4", "--crop", "64",
                            "--data", "mine")
    assert (cfg.data.crop, cfg.data.data_dirs, cfg.data.batch_size) == (64, ("mine",), 8)
    assert stage.card() == {"recipe": "srresnet_x4_faces.toml", "recipe_stage": 4}
    monkeypatch.setenv("FACES_HQ", "/env/faces")
    monkeypatch.setenv("CELEBA_ALIGNED", "/env/celeba")
    runs = _runs("--config", str(ROOT / "recipes" / "srresnet_x4_faces.toml"), "--seed", "3")
    assert [s.number for _, s in runs] == list(range(1, SRRESNET_STAGES + 1))
    assert runs[0][0].data.data_dirs == ("/env/faces", "/env/celeba")
    assert all(cfg.train.seed == 3 for cfg, _ in runs)


@pytest.mark.parametrize("argv, words", [
    (["--config", "srresnet_x4_faces"], "data_dirs holds the placeholder $FACES_HQ: set "
     "FACES_HQ=FOLDER in the environment, or pass --data"),
    (["--config", "srresnet_x4_faces", "--stage", str(SRRESNET_STAGES + 1), "--data", "x"],
     f"--stage {SRRESNET_STAGES + 1}, but the recipe has stages 1 to {SRRESNET_STAGES}"),
    (["--config", "srresnet_x4_faces", "--data", "x", "--checkpoint-dir", "c"],
     "--checkpoint-dir names one run's folder or start: with a recipe of "
     f"{SRRESNET_STAGES} stages, give --stage N with it"),
    (["--stage", "2"], "--stage picks a stage of a recipe: give --config too"),
    (["--config", "srresnet_x4_faces", "--stage", "1", "--data", "x", "--crop", "100"],
     f"stage 1 of {SRRESNET_STAGES}: HR training size 100 must be a multiple of 16"),
])
def test_a_bad_recipe_run_is_one_line(monkeypatch, capsys, argv, words):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    assert train_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: ") and words in err, err


@pytest.mark.parametrize("text, words", [
    ('name = "x"\n[[stages]]\ncrpo = 96\n', "stage 1: unknown setting 'crpo'; did you mean "
     "crop?"),
    ('name = "x"\n[[stages]]\ncrop = "96"\n', "stage 1: crop must be an integer, got '96'"),
    ('name = "x"\n[[stages]]\nlayer_weights = [1, "a"]\n', "layer_weights must be a list, "
     "each a number"),
    ('name = "x"\n[[stages]]\nval = 1\n', "val must be true or false, got 1"),
    ('name = "x"\n[common]\nepochs = 1.5\n[[stages]]\n', "[common]: epochs must be an "
     "integer"),
    ('name = "x"\nstages = []\n', "needs at least one [[stages]] table"),
    ('[[stages]]\n', 'needs name = "...", the model it makes'),
    ('name = "x"\nsteps = 3\n[[stages]]\n', "unknown key 'steps'"),
    ('name = "x\n', "not a TOML file"),
])
def test_a_bad_recipe_file_is_named_with_what_is_wrong(tmp_path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        recipes.load(path)
    assert str(err.value).startswith(str(path)) and words in str(err.value), err.value


def test_an_unknown_recipe_names_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match="no shipped recipe of that name "
                       r"\(srcnn_x4_faces, srgan_x4_faces, srgan_x4_faces_blind, "):
        recipes.find("srgan_x8")


@pytest.mark.slow  # two tiny training runs
def test_config_runs_every_stage_in_turn_and_the_cards_record_it(tmp_path, face_dir,
                                                                  monkeypatch):
    """Stage 2 starts from stage 1's generator, the flags given override both stages, and
    each exported card names the recipe and the stage (and says aligned_faces where the
    stage sets it)."""
    model = "\n".join(f"{k} = {v}" for k, v in TINY_MODEL.items())
    (tmp_path / "tiny.toml").write_text(f'''name = "tiny"
[common]
data_dirs = ["$FACES"]
hr_size = 32
batch_size = 2
perceptual = "vgg16-offline"
feature_layers = ["block1_conv2"]
epochs = 0
steps_per_epoch = 3
num_samples = 2
sample_every = 1000
val = false
{model}

[[stages]]
about = "from random weights"
pretrain_epochs = 1

[[stages]]
about = "on from stage 1"
init_from = "checkpoints/tiny/stage1/generator.weights.h5"
pretrain_epochs = 1
pretrain_lr = 1e-4
aligned_faces = true
''')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FACES", str(face_dir))
    assert train_main(["--config", "tiny.toml", "--steps-per-epoch", "2"]) == 0
    for number in (1, 2):
        card = json.loads((tmp_path / f"checkpoints/tiny/stage{number}/generator.json")
                          .read_text())
        training = card["training"]
        assert (training["recipe"], training["recipe_stage"]) == ("tiny.toml", number)
        assert training["step"] == 2  # the flag, not the recipe's 3
        assert (tmp_path / f"logs/tiny/stage{number}").is_dir()
        # --face-enhance reads it to restore faces as aligned crops
        assert card.get("aligned_faces", False) == (number == 2)
    assert training["init_from"] == "checkpoints/tiny/stage1/generator.weights.h5"
    config = json.loads((tmp_path / "checkpoints/tiny/stage2/config.json").read_text())
    assert config["train"]["pretrain_lr"] == 1e-4 and config["data"]["data_dirs"] == [
        str(face_dir)]
