"""The private Keras and TensorFlow hooks the GAN model relies on, in one place.

Both work around keras-team/keras#20585: ``fit()`` under ``MultiWorkerMirroredStrategy``
fails in Keras 3's TensorFlow trainer, for two reasons.

* Keras builds the model from a first batch that it averages across replicas
  (``Model._maybe_symbolic_build``), and that average fails across workers.
  :class:`PrebuiltModel` overrides the hook to skip the build when the model says its
  variables all exist already.
* Keras gathers each step's outputs from the workers by concatenating along axis 0,
  which a scalar metric lacks. :func:`stackable_step_outputs` gives every output a
  length-1 axis when several workers train (TensorFlow's private
  ``strategy.extended._in_multi_worker_mode()``, the test Keras itself uses).

Written against Keras 3.x (checked with 3.15). When a Keras version lacks the hook, one
warning says so and the plain Keras behaviour applies (single-host training is
unaffected; multi-worker training may then fail as in the issue). When TensorFlow lacks
``_in_multi_worker_mode``, any ``MultiWorkerMirroredStrategy`` counts as multi-worker.
"""

from __future__ import annotations

import warnings

import keras
import tensorflow as tf

ISSUE = "keras-team/keras#20585"
KERAS_MAJOR = 3


def check_keras(version: str = keras.__version__, model_cls: type = keras.Model) -> bool:
    """True when Keras ``version``'s ``model_cls`` has the build hook :class:`PrebuiltModel`
    overrides; else one warning saying that multi-worker training may fail. Runs once, at
    import, on the installed Keras."""
    major = int(version.split(".")[0])
    found = hasattr(model_cls, "_maybe_symbolic_build")
    if major != KERAS_MAJOR or not found:
        warnings.warn(f"Keras {version}: the workaround for {ISSUE} needs Keras "
                      f"{KERAS_MAJOR}.x with Model._maybe_symbolic_build "
                      f"({'found' if found else 'missing'}); multi-worker training may "
                      f"fail", RuntimeWarning, stacklevel=2)
    return found


check_keras()


class PrebuiltModel(keras.Model):
    """A ``keras.Model`` whose variables all exist before ``fit()``; it tells Keras not to
    build it from a first batch (see the module docstring).

    Subclasses return True from :meth:`ready_to_train` once nothing is left to build.
    """

    def ready_to_train(self) -> bool:
        return False

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Private Keras hook (keras/src/backend/tensorflow/trainer.py), see module docstring.
        if self.ready_to_train():
            self.built = True
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def in_multi_worker_mode() -> bool:
    """True when the current strategy trains on several workers."""
    strategy = tf.distribute.get_strategy()
    probe = getattr(strategy.extended, "_in_multi_worker_mode", None)
    if probe is None:  # private in TensorFlow; fall back to the public type
        return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    return bool(probe())


def stackable_step_outputs(results: dict) -> dict:
    """``train_step``'s outputs as Keras can gather them: unchanged on one worker; with a
    length-1 axis each on several (Keras returns scalars again)."""
    if not in_multi_worker_mode():
        return results
    return {name: tf.reshape(value, [1]) for name, value in results.items()}
