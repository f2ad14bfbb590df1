"""Quality measurement: metrics (PSNR, SSIM, LPIPS; NIQE without reference),
``evaluate.py``'s scoring, its tables and files, and the figures (triptychs, scatter plot,
contact sheet)."""
