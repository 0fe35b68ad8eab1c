"""The command line. Importing it pins the numerical libraries to one thread per process."""

import os

# One thread per process for the numerical libraries: vpipe parallelises across rows with
# processes (--jobs), and idle BLAS/OpenMP pools otherwise spin — measured, they doubled the
# CPU time of voice matching for no gain in speed. Set here, before numpy is first imported
# by anything under vpipe.cli.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
