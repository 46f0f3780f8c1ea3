"""Per-image answers for generated sources: realism score, inside the real manifold or not,
nearest real image and a possible-copy flag (``scores``); the per-image table with paired
SSIM / PSNR, its CSV and the JSON summary (``table``); features back from the cache for
stored runs (``from_cache``)."""
