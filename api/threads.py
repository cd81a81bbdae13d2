"""Numerical thread pools, set deliberately for the server's processes.

Left alone, OpenBLAS, OpenMP and MKL each start one thread per core in every process, and torch does
the same; on a small machine the API, the episode workers and a VLA then fight over the same cores
(the issue's load test: p95 25 s with default pools, 321 ms with pools of one). The arena's numerical
work is small and already parallel at a coarser grain (one request per thread, one episode per
worker thread, the two sides of a turn at once), so every pool gets a stated, small size:

- API: BLAS/OpenMP pools of API_THREADS = 1. The only dense linear algebra is the ratings fit (a few
  milliseconds, in one background thread).
- Episode workers: WORKER_THREADS = 1 each (MuJoCo steps on the calling thread; `Settings.workers`
  such threads run at once, 2 by default: both sides of a turn).
- VLA (learned policies, torch): VLA_THREADS = 1 intra-op thread per inference; the two sides of a
  turn infer at once, so a turn uses two cores.

Each is an environment variable to override: ARENA_API_THREADS, ARENA_WORKER_THREADS, ARENA_VLA_THREADS.
The embedded server runs all three roles in one process; its BLAS/OpenMP pools get the largest of the
API and worker sizes and torch gets the VLA size. Call `configure()` before numpy or torch load (the
pools read the environment once): `arena serve` does, and its granian process inherits the environment.
"""

from __future__ import annotations

import os
import sys

API_THREADS = 1
WORKER_THREADS = 1
VLA_THREADS = 1
POOL_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                  "NUMEXPR_NUM_THREADS")


def sizes(env: dict[str, str] | None = None) -> dict[str, int]:
    """The stated pool size per role, after ARENA_*_THREADS overrides."""
    env = dict(os.environ) if env is None else env
    return {"api": int(env.get("ARENA_API_THREADS", API_THREADS)),
            "worker": int(env.get("ARENA_WORKER_THREADS", WORKER_THREADS)),
            "vla": int(env.get("ARENA_VLA_THREADS", VLA_THREADS))}


def server_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's) with the pool variables set for an embedded server process."""
    out = dict(os.environ) if env is None else dict(env)
    n = sizes(out)
    for var in POOL_VARIABLES:
        out[var] = str(max(n["api"], n["worker"]))
    out["ARENA_VLA_THREADS"] = str(n["vla"])
    return out


def configure() -> dict[str, int]:
    """Set the pools of this process: environment for libraries not loaded yet, and, for those already
    loaded, threadpoolctl (numpy's BLAS, OpenMP) and torch. Returns the sizes used."""
    os.environ.update(server_env())
    n = sizes()
    if "numpy" in sys.modules:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # without it only the environment applies (libraries loaded later)
            pass
        else:
            threadpool_limits(max(n["api"], n["worker"]))
    if "torch" in sys.modules:
        configure_torch()
    return n


def configure_torch() -> None:
    """torch's intra-op pool for VLA inference (call after importing torch, before the first inference)."""
    import torch

    torch.set_num_threads(sizes()["vla"])
