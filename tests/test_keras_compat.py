"""srgan.training.keras_compat: the private-hook workarounds for keras-team/keras#20585.
The two-worker run that needs them is tests/test_distribute.py."""

import warnings

import keras
import pytest
import tensorflow as tf

from srgan.training import keras_compat


def test_this_keras_has_the_hook_and_another_major_version_warns():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert keras_compat.check_keras()
    with pytest.warns(RuntimeWarning, match=r"Keras 4\.0\.0: .*keras-team/keras#20585"):
        assert keras_compat.check_keras("4.0.0")
    with pytest.warns(RuntimeWarning, match=r"_maybe_symbolic_build \(missing\)"):
        assert not keras_compat.check_keras(keras.__version__, object)


def test_a_ready_model_skips_the_symbolic_build(monkeypatch):
    def fail(self, iterator=None, data_batch=None):
        raise AssertionError("Keras's build from a first batch ran")

    monkeypatch.setattr(keras.Model, "_maybe_symbolic_build", fail)

    class Ready(keras_compat.PrebuiltModel):
        def ready_to_train(self):
            return True

    model = Ready()
    model._maybe_symbolic_build()
    assert model.built
    with pytest.raises(AssertionError, match="first batch"):
        keras_compat.PrebuiltModel()._maybe_symbolic_build()


def test_step_outputs_keep_their_shape_on_one_worker():
    results = {"g_loss": tf.constant(1.5)}
    assert not keras_compat.in_multi_worker_mode()
    assert keras_compat.stackable_step_outputs(results) is results
