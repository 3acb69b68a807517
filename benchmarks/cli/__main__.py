"""``python -m hicra.benchmarks.cli``: the ``hicra`` command, e.g. under
``torchrun --nproc_per_node N -m hicra.benchmarks.cli train ...``."""

import sys

from . import main

sys.exit(main())
