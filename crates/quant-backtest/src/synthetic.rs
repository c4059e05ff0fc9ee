//! Synthetic daily markets for benchmarks and scale tests.
//!
//! Deterministic for a seed (SplitMix64): geometric random walks with 2%
//! daily volatility, valid OHLC, positive volume, every instrument trading
//! every day of a weekday calendar starting 2000-01-03. Not market data:
//! use it to measure speed and memory, never to judge a strategy.

use chrono::{Datelike, NaiveDate, Weekday};
use quant_core::{Instrument, Symbol, TradingCalendar};
use quant_data::BarSeries;

/// SplitMix64 pseudo-random numbers (Steele, Lea, Flood 2014).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n_days` weekdays from 2000-01-03.
pub fn weekday_calendar(n_days: usize) -> TradingCalendar {
    let mut days = Vec::with_capacity(n_days);
    let mut d = NaiveDate::from_ymd_opt(2000, 1, 3).unwrap_or(NaiveDate::MIN);
    while days.len() < n_days {
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            days.push(d);
        }
        d = d.succ_opt().unwrap_or(d);
    }
    TradingCalendar::new(days).unwrap_or_else(|_| unreachable!("weekdays are increasing"))
}

/// `n_symbols` main-board A-share instruments (`600000.SH`, …) with
/// `n_days` bars each on [`weekday_calendar`]; prices move at most ±9.5% a
/// day, so price limits rarely bind.
pub fn synthetic_market(
    n_symbols: usize,
    n_days: usize,
    seed: u64,
) -> (Vec<Instrument>, Vec<BarSeries>, TradingCalendar) {
    let cal = weekday_calendar(n_days);
    let mut rng = SplitMix64::new(seed);
    let mut instruments = Vec::with_capacity(n_symbols);
    let mut series = Vec::with_capacity(n_symbols);
    for k in 0..n_symbols {
        let code = if k < 400_000 { 600_000 + k } else { k };
        let sym =
            Symbol::new(format!("{code:06}.SH")).unwrap_or_else(|_| unreachable!("valid symbol"));
        instruments.push(
            Instrument::infer(sym.clone(), false).unwrap_or_else(|_| unreachable!("six digits")),
        );
        let mut s = BarSeries {
            symbol: Some(sym),
            ..BarSeries::default()
        };
        let mut close = 10.0 + 90.0 * rng.next_f64();
        for &date in cal.days() {
            let r = |x: f64| (x * 100.0).round() / 100.0;
            let step = (rng.next_f64() - 0.5) * 0.07;
            let open = r(close * (1.0 + (rng.next_f64() - 0.5) * 0.02)).max(0.05);
            let c = r(close * (1.0 + step)).max(0.05);
            let high = r(open.max(c) * (1.0 + rng.next_f64() * 0.01));
            let low = r(open.min(c) * (1.0 - rng.next_f64() * 0.01)).max(0.01);
            s.dates.push(date);
            s.open.push(open);
            s.high.push(high.max(open).max(c));
            s.low.push(low.min(open).min(c));
            s.close.push(c);
            s.pre_close.push(close);
            s.volume.push(1e6 + 1e6 * rng.next_f64());
            s.amount.push(f64::NAN);
            s.adj_factor.push(1.0);
            close = c;
        }
        series.push(s);
    }
    (instruments, series, cal)
}
