# Generates rng_numpy.txt, the NumPy reference values for rng_test.go.
# Run from the package directory with the system Python and its NumPy
# (NumPy 1.24.2 was used):
#
#   /usr/bin/python3 testdata/gen_rng.py > testdata/rng_numpy.txt
#
# Every value is written with repr(), which round-trips a float64 exactly.
# Lines: "seed S", then "rand X", "randn X", "rand2 X Y" in the order drawn.
import numpy as np

print("# numpy", np.__version__)
for seed in (0, 1, 42, 4294967295):
    np.random.seed(seed)
    print("seed", seed)
    for _ in range(5):
        print("rand", repr(float(np.random.rand())))
    # An odd count leaves a cached Gaussian, which must survive the rand()
    # calls below, as it does between HNN's trajectories.
    for v in np.random.randn(7):
        print("randn", repr(float(v)))
    a = np.random.rand(2)
    print("rand2", repr(float(a[0])), repr(float(a[1])))
    print("rand", repr(float(np.random.rand())))
    for v in np.random.randn(1000):
        print("randn", repr(float(v)))
    for _ in range(700):  # past one refill of the 624-word state
        print("rand", repr(float(np.random.rand())))

# The first HNN-style draws of a pendulum dataset with seed 0: per
# trajectory rand(2), rand(), randn(45) for q, randn(45) for p.
np.random.seed(0)
print("seed hnn-pendulum 0")
for s in range(3):
    y0 = np.random.rand(2) * 2.0 - 1
    radius = np.random.rand() + 1.3
    y0 = y0 / np.sqrt((y0 ** 2).sum()) * radius
    print("y0", repr(float(y0[0])), repr(float(y0[1])))
    nq = np.random.randn(45)
    np_ = np.random.randn(45)
    print("noise", repr(float(nq[0])), repr(float(nq[-1])), repr(float(np_[0])), repr(float(np_[-1])))
