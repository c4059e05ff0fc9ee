#!/usr/bin/env bash
# Seed corpora for the fuzz targets, from the project's own real inputs:
# the fixture bar files (head of each), Parquet files made from them, the
# shipped configs and strategy files, indicator specs and provider replies.
# Writes fuzz/corpus/<target>/; safe to rerun (replaces the seeds).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=fuzz/corpus
mkdir -p "$corpus"
for t in bar_csv bar_parquet indicator_spec strategy_file backtest_config data_config provider_replies; do
  mkdir -p "$corpus/$t"
done

n=0
for f in fixtures/cn/daily/*.csv fixtures/cn/index/*.csv fixtures/cn/etf/*.csv fixtures/us/daily/*.csv \
         fixtures/crypto/daily/*.csv fixtures/cn/minute/5m/*.csv fixtures/crypto/hourly/*.csv \
         crates/quant-data/tests/data/*.csv; do
  head -40 "$f" > "$corpus/bar_csv/$(echo "$f" | tr / _)"
  n=$((n + 1))
done

# Parquet seeds from the fixtures, through the importer (when built)
bin="${QUANT_DATA_BIN:-target/debug/quant-data}"
if [ -x "$bin" ]; then
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/in"
  for f in fixtures/cn/daily/600519.SH.csv fixtures/cn/index/000300.SH.csv fixtures/us/daily/SPY.csv; do
    head -120 "$f" > "$tmp/in/$(basename "$f")"
  done
  "$bin" import --input "$tmp/in" --store "$tmp/store" >/dev/null
  for p in "$tmp"/store/*.parquet; do cp "$p" "$corpus/bar_parquet/"; done
  rm -rf "$tmp"
fi

cp config/strategies/*.toml "$corpus/strategy_file/"
cp config/*.toml config/examples/*.toml "$corpus/backtest_config/"
cp config/data.toml "$corpus/data_config/"

k=0
for s in 'RSI(14)' 'MACD(12,26,9).hist' 'BBANDS(20,2,2).upper' 'SMA(close, 20)' 'EMA(volume,10)' \
         'ATR(14)' 'STOCH(14,3,3).slowk' 'ADX(14)' 'CCI(20)' 'WILLR(14)' 'OBV' 'SAR(0.02,0.2)' \
         'KAMA(30)' 'CDLENGULFING' 'NATR(14)' 'AROON(25).up' 'MFI(14)' 'T3(5,0.7)'; do
  printf '%s' "$s" > "$corpus/indicator_spec/spec-$k"
  k=$((k + 1))
done

# provider replies: first byte picks the decoder (0 TuShare, 1 Eastmoney,
# 2 Yahoo, 3 Binance), the rest is the body, as the providers send it
r="$corpus/provider_replies"
printf '\x00%s' '{"code":0,"msg":"","data":{"fields":["ts_code","trade_date","open","high","low","close","pre_close","vol","amount"],"items":[["600519.SH","20240103","1682.0","1695.5","1670.0","1691.0","1680.0","23456.7","3950000.12"]],"has_more":false}}' > "$r/tushare"
printf '\x00%s' '{"code":40203,"msg":"抱歉，您每分钟最多访问该接口500次","data":null}' > "$r/tushare-throttle"
printf '\x01%s' '{"rc":0,"data":{"code":"600519","klines":["2024-01-02,1715.00,1685.01,1718.19,1678.10,32134,5459520000.00,2.34,-1.74,-29.99,0.26"]}}' > "$r/eastmoney"
printf '\x02%s' '{"chart":{"result":[{"meta":{"symbol":"SPY","currency":"USD"},"timestamp":[1704205800],"indicators":{"quote":[{"open":[472.16],"high":[473.67],"low":[470.49],"close":[472.65],"volume":[123623700]}],"adjclose":[{"adjclose":[466.67]}]},"events":{"dividends":{},"splits":{}}}],"error":null}}' > "$r/yahoo"
printf '\x03%s' '[[1704067200000,"42283.58","44184.10","42180.77","44179.55","27174.29903",1704153599999,"1169995250.0",1139328,"14257.59",614200000.0,"0"]]' > "$r/binance"
echo "seeded $corpus: $n CSV files, $(ls "$corpus/bar_parquet" | wc -l) Parquet files, $k specs, replies and configs"
