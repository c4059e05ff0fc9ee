"""TA-Lib's own C speed on this machine, for docs/PERFORMANCE.md.

Calls the C functions of the `ta-lib` wheel (0.8.2, C library 0.8.1)
through ctypes with input and output buffers allocated once, so the time is
the C computation alone; and, for comparison, through the Python wrapper
(which allocates fresh numpy output arrays each call), once with numpy's
transparent huge pages and once with 4 KiB pages. Best, median and mean of
15 runs over 10 million points. Not part of the project's build or tests:

    pip install ta-lib==0.8.2 numpy
    python3 crates/quant-indicators/benches/talib_reference.py
"""
import ctypes, glob, os, time
import numpy as np
import talib

N = 10_000_000
libdir = os.path.join(os.path.dirname(talib.__file__), "..", "ta_lib.libs")
lib = ctypes.CDLL(glob.glob(os.path.join(libdir, "libta-lib*.so*"))[0])
lib.TA_Initialize()

P = lambda a: a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
I = ctypes.c_int
D = ctypes.c_double
R = ctypes.byref
beg, nb = ctypes.c_int(), ctypes.c_int()


def calls():
    """Fresh inputs and outputs (allocated under the current page policy)."""
    rng = np.random.default_rng(7)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, N)))
    h = c * (1 + np.abs(rng.normal(0, 0.005, N)))
    l = c * (1 - np.abs(rng.normal(0, 0.005, N)))
    outs = [np.zeros(N) for _ in range(3)]
    o = [P(x) for x in outs]
    c_calls = {
        "SMA(20)": lambda: lib.TA_SMA(0, N - 1, P(c), 20, R(beg), R(nb), o[0]),
        "EMA(20)": lambda: lib.TA_EMA(0, N - 1, P(c), 20, R(beg), R(nb), o[0]),
        "RSI(14)": lambda: lib.TA_RSI(0, N - 1, P(c), 14, R(beg), R(nb), o[0]),
        "ATR(14)": lambda: lib.TA_ATR(0, N - 1, P(h), P(l), P(c), 14, R(beg), R(nb), o[0]),
        "MACD(12,26,9)": lambda: lib.TA_MACD(0, N - 1, P(c), 12, 26, 9, R(beg), R(nb), o[0], o[1], o[2]),
        "BBANDS(20,2,2)": lambda: lib.TA_BBANDS(0, N - 1, P(c), 20, D(2.0), D(2.0), 0, R(beg), R(nb), o[0], o[1], o[2]),
    }
    py_calls = {
        "SMA(20)": lambda: talib.SMA(c, 20),
        "EMA(20)": lambda: talib.EMA(c, 20),
        "RSI(14)": lambda: talib.RSI(c, 14),
        "ATR(14)": lambda: talib.ATR(h, l, c, 14),
        "MACD(12,26,9)": lambda: talib.MACD(c, 12, 26, 9),
        "BBANDS(20,2,2)": lambda: talib.BBANDS(c, 20, 2, 2, 0),
    }
    return c_calls, py_calls, (c, h, l, outs)


def timings(f, reps=15):
    """(best, median, mean) seconds over `reps` calls; criterion reports a
    mean, so compare ours with the mean, and with the best when generous."""
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        rc = f()
        ts.append(time.perf_counter() - t)
        assert not isinstance(rc, int) or rc == 0, rc
    ts.sort()
    return ts[0], ts[len(ts) // 2], sum(ts) / len(ts)


print(f"TA-Lib {talib.__version__} (C {talib.__ta_version__.decode()}), {N:,} points, 15 runs each")
# numpy asks for transparent huge pages on large arrays (madvise); a Rust
# Vec gets 4 KiB pages unless THP is "always". Both are shown: the 4 KiB
# column is the like-for-like one for our criterion figures.
for huge in (True, False):
    np._core.multiarray._set_madvise_hugepage(huge)
    c_calls, py_calls, keep = calls()
    print(f"\n{'huge pages' if huge else '4 KiB pages'}")
    print(f"{'indicator':16s} {'C, warm buffers: best / median / mean':>40s} {'Python wrapper, best':>22s}")
    for k in c_calls:
        (cb, cm, ca), (pb, _, _) = timings(c_calls[k]), timings(py_calls[k])
        print(f"{k:16s} {cb*1e3:10.1f} / {cm*1e3:6.1f} / {ca*1e3:6.1f} ms {N/cb/1e6:5.0f}M/s {pb*1e3:12.1f} ms")
