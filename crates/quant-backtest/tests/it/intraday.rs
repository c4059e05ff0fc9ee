//! Intraday runs (`data.interval`) on the shipped 5-minute A-share ETF and
//! hourly BTC-USDT fixtures: fills inside the bars they fill on and
//! inside the sessions, T+1 across days on 5-minute bars, the next bar's
//! open, no look-ahead from the feed, identical bytes twice, config errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveTime, Timelike};
use quant_backtest::intraday::IntradayFeed;
use quant_backtest::report::{trades_csv, write_outputs};
use quant_backtest::{BacktestConfig, Error, run_backtest};
use quant_core::{Instrument, InstrumentIndex, Interval, Side, TradingCalendar, UnixNanos};
use quant_data::intraday::{IntradaySeries, read_intraday_csv};
use quant_engine::DataFeed;
use rust_decimal::prelude::ToPrimitive;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(rel: &str) -> BacktestConfig {
    BacktestConfig::load(&root().join(rel)).unwrap()
}

fn series(rel: &str) -> (Instrument, IntradaySeries) {
    let p = root().join("fixtures").join(rel);
    let sym = quant_data::csv_io::symbol_from_path(&p).unwrap();
    let inst = Instrument::infer(sym, false).unwrap();
    let s = read_intraday_csv(&p, inst.exchange).unwrap();
    (inst, s)
}

/// Every fill of a run lies in the range of the bar it filled on
/// (slippage allowed), at that bar's open.
fn fills_inside_their_bars(res: &quant_backtest::BacktestResult, files: &[&str], slip: f64) {
    let bars: BTreeMap<String, IntradaySeries> = files
        .iter()
        .map(|f| {
            let (i, s) = series(f);
            (i.symbol.to_string(), s)
        })
        .collect();
    for f in &res.record.fills {
        let s = &bars[f.symbol.as_str()];
        let t = f.time.expect("an intraday fill carries its instant");
        let step = s.interval.nanos();
        // next_open: the fill is at the open of the bar closing one interval later
        let k = s
            .close_times
            .binary_search(&UnixNanos(t.0 + step))
            .unwrap_or_else(|_| panic!("{f:?}: no bar opens at the fill's instant"));
        let px = f.price.0.to_f64().unwrap();
        let (lo, hi) = (s.low[k], s.high[k]);
        assert!(
            px >= lo - 1e-9 && px <= hi + 1e-9,
            "{f:?} outside its bar [{lo}, {hi}]"
        );
        // slipped away from the open, never past the bar's range
        let open = match f.side {
            Side::Buy => (s.open[k] * (1.0 + slip)).min(s.high[k]),
            Side::Sell => (s.open[k] * (1.0 - slip)).max(s.low[k]),
        };
        assert!(
            (px - open).abs() < 1e-6 * open,
            "{f:?} not at the bar's open {open}"
        );
        assert_eq!(s.trading_day(k), Some(f.date), "{f:?}");
    }
}

#[test]
fn five_minute_etfs_trade_inside_the_sessions_under_t_plus_one() {
    let cfg = load("config/examples/intraday-5m.toml");
    let res = run_backtest(&cfg, |_, _| {}).unwrap();
    let fills = &res.record.fills;
    assert!(fills.len() >= 10, "{} fills", fills.len());
    fills_inside_their_bars(
        &res,
        &[
            "cn/minute/5m/510300.SH.csv",
            "cn/minute/5m/518880.SH.csv",
            "cn/minute/5m/159915.SZ.csv",
        ],
        2e-4,
    );
    let sh = chrono_tz_shanghai(&res);
    let (am, pm) = (
        (
            NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
            NaiveTime::from_hms_opt(11, 30, 0).unwrap(),
        ),
        (
            NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(15, 0, 0).unwrap(),
        ),
    );
    let mut intraday_hours = std::collections::BTreeSet::new();
    for f in fills {
        let local = sh(f.time.unwrap());
        let t = local.time();
        assert_eq!(local.date(), f.date, "{f:?}");
        assert!(
            (t >= am.0 && t < am.1) || (t >= pm.0 && t < pm.1),
            "{f:?} at {t}, outside the sessions"
        );
        intraday_hours.insert(t.hour());
        assert_eq!(
            f.quantity.0 % rust_decimal::Decimal::from(100),
            0.into(),
            "{f:?}: whole lots"
        );
    }
    // decisions through the day, not only at the open
    assert!(
        intraday_hours.len() >= 4,
        "fills only at hours {intraday_hours:?}"
    );
    // T+1 (CSI 300 and ChiNext ETFs): a sell never exceeds what was held
    // before the day began; the gold ETF is T+0
    let mut held: BTreeMap<&str, (chrono::NaiveDate, i64, i64)> = BTreeMap::new();
    for f in fills {
        let q = f.quantity.0.to_i64().unwrap();
        let e = held.entry(f.symbol.as_str()).or_insert((f.date, 0, 0));
        if e.0 != f.date {
            *e = (f.date, e.2, e.2);
        }
        match f.side {
            Side::Buy => e.2 += q,
            Side::Sell => {
                if f.symbol.as_str() != "518880.SH" {
                    assert!(q <= e.1, "{f:?}: sells {q} of {} held before the day", e.1);
                }
                e.1 -= q.min(e.1);
                e.2 -= q;
            }
        }
        assert!(e.2 >= 0, "{f:?}: short");
    }
    let t1 = res
        .record
        .orders
        .iter()
        .filter(|o| o.reason == Some(quant_core::RejectReason::TPlusOne))
        .count();
    assert!(t1 > 0, "no same-day sell was ever refused");
    // trades.csv: the fill's local time last
    let csv = trades_csv(&res);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",transfer_fee,time"));
    let first = lines.next().unwrap();
    let want = sh(fills[0].time.unwrap()).format("%H:%M").to_string();
    assert!(first.ends_with(&format!(",{want}")), "{first}");
    // one equity point per trading day
    assert_eq!(res.record.equity.len(), 484);
}

fn chrono_tz_shanghai(
    res: &quant_backtest::BacktestResult,
) -> impl Fn(UnixNanos) -> chrono::NaiveDateTime {
    let tz = res.instruments[0].exchange.timezone();
    move |t| t.local(&tz)
}

#[test]
fn hourly_crypto_trades_around_the_clock() {
    let cfg = load("config/examples/crypto-hourly.toml");
    let res = run_backtest(&cfg, |_, _| {}).unwrap();
    let fills = &res.record.fills;
    assert!(fills.len() >= 10, "{} fills", fills.len());
    fills_inside_their_bars(&res, &["crypto/hourly/BTC-USDT.csv"], 5e-4);
    let weekend = fills
        .iter()
        .filter(|f| f.date.weekday().number_from_monday() >= 6)
        .count();
    assert!(weekend > 0, "no fill on a weekend in a year of 24/7 bars");
    assert!(
        fills.iter().any(|f| !f.quantity.0.fract().is_zero()),
        "crypto units are fractional"
    );
    // 365 days of the bars' own calendar, one equity point each
    assert_eq!(res.record.equity.len(), 365);
}

#[test]
fn intraday_runs_write_identical_bytes_twice() {
    for rel in [
        "config/examples/intraday-5m.toml",
        "config/examples/crypto-hourly.toml",
    ] {
        let cfg = load(rel);
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        write_outputs(&run_backtest(&cfg, |_, _| {}).unwrap(), a.path()).unwrap();
        write_outputs(&run_backtest(&cfg, |_, _| {}).unwrap(), b.path()).unwrap();
        for name in [
            "summary.json",
            "equity.csv",
            "trades.csv",
            "orders.csv",
            "report.html",
        ] {
            let (x, y) = (
                std::fs::read(a.path().join(name)).unwrap(),
                std::fs::read(b.path().join(name)).unwrap(),
            );
            assert!(x == y, "{rel}: {name} differs between two runs");
        }
    }
}

#[test]
fn daily_trades_csv_has_no_time_column() {
    let res = run_backtest(&load("config/examples/sma-600036.toml"), |_, _| {}).unwrap();
    assert!(
        trades_csv(&res)
            .starts_with("date,symbol,side,quantity,price,commission,stamp_duty,transfer_fee\n")
    );
}

/// Walks the feed over every slot of the 5-minute fixtures: history ends
/// with the released bar, never a later one; daily bars appear only once
/// their day has closed, and equal the day's 5-minute bars aggregated.
#[test]
fn the_intraday_feed_never_looks_ahead() {
    let (insts, ser): (Vec<_>, Vec<_>) =
        ["cn/minute/5m/510300.SH.csv", "cn/minute/5m/159915.SZ.csv"]
            .iter()
            .map(|f| series(f))
            .unzip();
    let mut days: Vec<_> = (0..ser[0].len())
        .filter_map(|k| ser[0].trading_day(k))
        .collect();
    days.dedup();
    days.truncate(40);
    let cal = TradingCalendar::new(days.clone()).unwrap();
    let has_day: Vec<std::collections::BTreeSet<_>> = ser
        .iter()
        .map(|s| (0..s.len()).filter_map(|k| s.trading_day(k)).collect())
        .collect();
    let mut feed = IntradayFeed::new(insts, ser.clone(), None, &cal).unwrap();
    assert_eq!(feed.interval(), Interval::M5);
    let mut seen = 0usize;
    for (di, &day) in days.iter().enumerate() {
        feed.advance(day).unwrap();
        let slots = feed.slots();
        assert_eq!(slots, 48, "{day}: 48 five-minute bars in 4 hours");
        for k in 0..slots {
            if k > 0 {
                feed.advance_slot(k).unwrap();
            }
            let (open, close) = feed.bar_time().unwrap();
            assert_eq!(close.0 - open.0, Interval::M5.nanos());
            for (i, s) in ser.iter().enumerate() {
                let idx = InstrumentIndex(i as u32);
                let hist = feed.history().series(idx);
                let n = hist.close.len();
                match feed.bars()[i] {
                    // the last history bar is the released one, closing now
                    Some(b) => {
                        assert_eq!(s.close_times[n - 1], close, "{day} slot {k}");
                        assert_eq!(b.close, s.close[n - 1]);
                    }
                    // no bar now: history ends before
                    None => assert!(n == 0 || s.close_times[n - 1] < close, "{day} slot {k}"),
                }
                let daily = feed.history().series_of(idx, Interval::D1).unwrap();
                let closed = if k + 1 == slots { di + 1 } else { di };
                let done: Vec<_> = days[..closed]
                    .iter()
                    .filter(|d| has_day[i].contains(d))
                    .collect();
                assert_eq!(daily.close.len(), done.len(), "{day} slot {k}");
                if let (Some(&c), Some(&&last)) = (daily.close.last(), done.last()) {
                    // the last completed day's close is its last 5-minute close
                    let j = (0..s.len())
                        .rev()
                        .find(|&j| s.trading_day(j) == Some(last))
                        .unwrap();
                    assert_eq!(c, s.close[j]);
                }
            }
            seen += 1;
        }
        assert!(feed.advance_slot(slots).is_err());
    }
    assert_eq!(seen, 40 * 48);
    // a day's aggregate: first open, highest high, lowest low, summed volume
    let s = &ser[0];
    let d0: Vec<usize> = (0..s.len())
        .filter(|&k| s.trading_day(k) == Some(days[0]))
        .collect();
    let daily = feed
        .history()
        .series_of(InstrumentIndex(0), Interval::D1)
        .unwrap();
    assert_eq!(daily.open[0], s.open[d0[0]]);
    let hi = d0.iter().map(|&k| s.high[k]).fold(f64::MIN, f64::max);
    let lo = d0.iter().map(|&k| s.low[k]).fold(f64::MAX, f64::min);
    let vol: f64 = d0.iter().map(|&k| s.volume[k]).sum();
    assert_eq!(
        (daily.high[0], daily.low[0], daily.volume[0]),
        (hi, lo, vol)
    );
    assert!(
        feed.history()
            .series_of(InstrumentIndex(0), Interval::H1)
            .is_none()
    );
}

#[test]
fn intraday_config_errors_name_the_key() {
    let mut cfg = load("config/examples/intraday-5m.toml");
    cfg.data.interval = Some(Interval::H1);
    let e = run_backtest(&cfg, |_, _| {}).unwrap_err();
    assert!(
        matches!(&e, Error::Config { message, .. } if message.contains("data.interval is 1h") && message.contains("5m bars")),
        "{e}"
    );
    // parquet files hold daily bars only
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("config/examples/intraday-5m.toml"))
        .unwrap()
        .replace("format = \"csv\"", "format = \"parquet\"")
        .replace(
            "../../fixtures",
            &root().join("fixtures").display().to_string(),
        );
    let p = dir.path().join("c.toml");
    std::fs::write(&p, text).unwrap();
    let e = BacktestConfig::load(&p).unwrap_err().to_string();
    assert!(e.contains("data.format"), "{e}");
}
