"""Training: the SRGAN ``keras.Model`` (``gan``), losses, schedules, the generator's moving
average (``ema``), callbacks, checkpoints, validation, stopping safely, tf.distribute, and
the run itself (``run``)."""
