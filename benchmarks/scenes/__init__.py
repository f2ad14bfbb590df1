"""``python -m benchmarks.scenes``: faces in whole photos, scored where they are.

Composes test photos from aligned HR faces over backgrounds (:mod:`.compose`), runs each
method on their clean and degraded LR (:mod:`.methods`: bicubic, whole-photo generators,
and any method plugged in by name), and scores only the faces, the background around them
and the detections (:mod:`.scores`); writes JSON, a Markdown table and contact sheets of
face crops (:mod:`.run`, :mod:`.report`). Never imported by ``srgan``.

    python -m benchmarks.scenes --faces FACES_DIR --backgrounds BACKGROUNDS_DIR \\
        --model srgan --lr clean -o OUT
"""
