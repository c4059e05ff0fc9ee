"""Reference outputs for the patterns and functions the shared goldens lack.

Run from the repository root with TA-Lib's Python wheel (`pip install
ta-lib==0.8.2 numpy`, which ships the C library 0.8.1):

    python3 crates/quant-indicators/tests/data/extra/make_extra.py

Writes, next to this script: `synthetic_bars.csv` (a seeded random market
whose candles are shaped so every pattern fires) and TA-Lib's outputs on it
and on the two fixture series (`600519.SH.csv`, `BTC-USDT.csv`). The tests
only read the CSVs; TA-Lib is never called by the project.
"""
import csv, os
import numpy as np
import talib
import talib.abstract

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "../../../../..")

PATTERNS = ["CDLENGULFING", "CDLDOJI", "CDLHAMMER", "CDLSHOOTINGSTAR", "CDLMORNINGSTAR",
            "CDLEVENINGSTAR", "CDLHARAMI", "CDL3WHITESOLDIERS", "CDL3BLACKCROWS", "CDLMARUBOZU"]


def synthetic(n=6000, seed=20261123):
    rng = np.random.default_rng(seed)
    o = np.empty(n); h = np.empty(n); l = np.empty(n); c = np.empty(n)
    prev = 100.0
    trend = 0
    for i in range(n):
        if rng.random() < 0.08:
            trend = rng.choice([-1, 0, 1])
        gap = rng.choice([0.0, rng.normal(0, 0.004)], p=[0.6, 0.4])
        o[i] = round(prev * (1 + gap), 2)
        kind = rng.random()
        if kind < 0.15:
            body = rng.normal(0, 0.0005)          # doji-like
        else:
            body = trend * abs(rng.normal(0.012, 0.006)) + rng.normal(0, 0.01)
        c[i] = round(max(o[i] * (1 + body), 0.5), 2)
        top, bot = max(o[i], c[i]), min(o[i], c[i])
        up = abs(rng.normal(0, 0.006)) * (rng.random() < 0.6)
        dn = abs(rng.normal(0, 0.006)) * (rng.random() < 0.6)
        if rng.random() < 0.1:
            dn = abs(rng.normal(0.03, 0.01))   # hammer-ish
        if rng.random() < 0.1:
            up = abs(rng.normal(0.03, 0.01))   # shooting-star-ish
        h[i] = round(top * (1 + up), 2)
        l[i] = round(bot * (1 - dn), 2)
        v = float(rng.integers(1_000, 1_000_000))
        prev = c[i]
        yield i, o[i], h[i], l[i], c[i], v


def write_bars(path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "open", "high", "low", "close", "volume"])
        for i, o, h, l, c, v in synthetic():
            day = np.datetime64("2000-01-03") + np.timedelta64(i, "D")
            w.writerow([str(day), f"{o:.2f}", f"{h:.2f}", f"{l:.2f}", f"{c:.2f}", f"{v:.0f}"])


def read(path):
    rows = list(csv.DictReader(open(path)))
    col = lambda k: np.array([float(r[k]) for r in rows])
    return [r["date"] for r in rows], col("open"), col("high"), col("low"), col("close"), col("volume")


def fmt(x):
    return "" if np.isnan(x) else repr(float(x)) if not float(x).is_integer() else str(int(x))


def write_golden(bars_path, out_path, with_functions):
    dates, o, h, l, c, v = read(bars_path)
    cols = {}
    for p in PATTERNS:
        out = getattr(talib, p)(o, h, l, c).astype(float)
        lb = talib.abstract.Function(p).lookback
        out[:lb] = np.nan
        cols[p] = out
    if with_functions:
        cols["SMA_20"] = talib.SMA(c, 20)
        cols["EMA_20"] = talib.EMA(c, 20)
        cols["WMA_20"] = talib.WMA(c, 20)
        cols["KAMA_30"] = talib.KAMA(c, 30)
        cols["RSI_14"] = talib.RSI(c, 14)
        m, s, hh = talib.MACD(c, 12, 26, 9)
        cols["MACD_12_26_9_macd"], cols["MACD_12_26_9_signal"], cols["MACD_12_26_9_hist"] = m, s, hh
        u, mid, lo = talib.BBANDS(c, 20, 2, 2, 0)
        cols["BBANDS_20_2_2_upper"], cols["BBANDS_20_2_2_middle"], cols["BBANDS_20_2_2_lower"] = u, mid, lo
        cols["ATR_14"] = talib.ATR(h, l, c, 14)
        cols["ADX_14"] = talib.ADX(h, l, c, 14)
        cols["CCI_14"] = talib.CCI(h, l, c, 14)
        k, d = talib.STOCH(h, l, c, 5, 3, 0, 3, 0)
        cols["STOCH_5_3_3_slowk"], cols["STOCH_5_3_3_slowd"] = k, d
        cols["WILLR_14"] = talib.WILLR(h, l, c, 14)
        cols["MFI_14"] = talib.MFI(h, l, c, v, 14)
        cols["SAR_0.02_0.2"] = talib.SAR(h, l, 0.02, 0.2)
        dn, up = talib.AROON(h, l, 14)
        cols["AROON_14_down"], cols["AROON_14_up"] = dn, up
        cols["ULTOSC_7_14_28"] = talib.ULTOSC(h, l, c, 7, 14, 28)
        cols["STDDEV_20_1"] = talib.STDDEV(c, 20, 1)
        cols["ADOSC_3_10"] = talib.ADOSC(h, l, c, v, 3, 10)
    names = list(cols)
    with open(out_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date"] + names)
        for i, d in enumerate(dates):
            w.writerow([d] + [fmt(cols[k][i]) if not np.isnan(cols[k][i]) else "" for k in names])


if __name__ == "__main__":
    syn = os.path.join(HERE, "synthetic_bars.csv")
    write_bars(syn)
    write_golden(syn, os.path.join(HERE, "synthetic.csv"), True)
    write_golden(os.path.join(ROOT, "fixtures/cn/daily/600519.SH.csv"), os.path.join(HERE, "600519.SH.csv"), False)
    write_golden(os.path.join(ROOT, "fixtures/crypto/daily/BTC-USDT.csv"), os.path.join(HERE, "BTC-USDT.csv"), False)
