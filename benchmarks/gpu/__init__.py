"""GPU benchmarks, run by hand on a CUDA machine with no internet (:mod:`.bench_gpu`); not part of ``hicra bench``.

    python -m hicra.benchmarks.gpu.bench_gpu --arch qwen2.5-1.5b --out runs/gpu

Not yet run on a GPU: the parts that can be checked on CPU are tested (``tests/benchmarks/test_gpu.py``).
"""
