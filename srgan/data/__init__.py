"""Training data: the tf.data pipeline from files to (LR, HR) batches, and the stream
order that makes a resumed run see exactly the batches an uninterrupted one would."""
