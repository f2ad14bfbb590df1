"""Quality measurement: metrics (PSNR, SSIM, LPIPS), ``evaluate.py``'s scoring, its
tables and files, and the figures (triptychs, scatter plot, contact sheet)."""
