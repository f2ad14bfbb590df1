"""Training: the SRGAN ``keras.Model`` (``gan``), losses, schedules, callbacks,
checkpoints, validation, stopping safely, tf.distribute, and the run itself (``run``)."""
