"""Faces in whole photos (``predict.py --face-enhance``): detect, align, restore, paste back.

Modules: ``detect`` (MTCNN with five landmarks, and which faces to keep), ``align`` (the
template, similarity transforms and warps), ``restore`` (the pipeline), ``paste`` (soft
mask and colour matching), ``track`` (steady faces in video), ``options`` (the flags).
"""
