//! The historical clock and data feed.

use chrono::NaiveDate;
use quant_core::{Bar, Instrument, InstrumentIndex, TradingCalendar};
use quant_data::BarSeries;
use quant_exec::{Clock, DataFeed};
use quant_strategy::History;

/// Walks a trading calendar day by day.
#[derive(Debug, Clone)]
pub struct HistoricalClock {
    days: Vec<NaiveDate>,
    next: usize,
}

impl HistoricalClock {
    /// A clock over the days of `calendar`.
    pub fn new(calendar: &TradingCalendar) -> Self {
        Self {
            days: calendar.days().to_vec(),
            next: 0,
        }
    }
}

impl Clock for HistoricalClock {
    fn next_session(&mut self) -> Option<NaiveDate> {
        let d = self.days.get(self.next).copied();
        self.next += 1;
        d
    }
}

/// Which closes strategies see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalPrices {
    /// Raw exchange closes.
    Raw,
    /// Back-adjusted closes (后复权, close × adj_factor): returns across
    /// ex-dates are continuous, and no future factor is used.
    Adjusted,
}

/// Bars from memory, released one trading day at a time.
///
/// At construction the bars are laid out day-major over the calendar (one
/// slot per trading day and instrument, `None` where the instrument has no
/// row), so that releasing a day reads one contiguous block. Rows dated
/// before the first calendar day, or on days outside the calendar, enter
/// history but are never released as bars. History slices end at the last
/// released day, so strategies cannot see the future.
#[derive(Debug, Clone)]
pub struct HistoricalFeed {
    instruments: Vec<Instrument>,
    days: Vec<NaiveDate>,
    /// `grid[k * n + i]`: bar of instrument `i` on calendar day `k`.
    grid: Vec<Option<Bar>>,
    /// `hist_len[k * n + i]`: history rows of instrument `i` after day `k`.
    hist_len: Vec<u32>,
    signal: Vec<Vec<f64>>,
    bench_close: Vec<f64>,
    bench_hist_len: Vec<u32>,
    bench_closes: Vec<f64>,
    prices: SignalPrices,
    /// Index of the next calendar day to release.
    next: usize,
}

impl HistoricalFeed {
    /// A feed over `series[i]` for `instruments[i]` on the trading days of
    /// `calendar`, with an optional benchmark. Consumes the series.
    ///
    /// # Panics
    /// When the two vectors differ in length.
    pub fn new(
        instruments: Vec<Instrument>,
        series: Vec<BarSeries>,
        bench: Option<BarSeries>,
        prices: SignalPrices,
        calendar: &TradingCalendar,
    ) -> Self {
        assert_eq!(instruments.len(), series.len(), "one series per instrument");
        let n = series.len();
        let days = calendar.days().to_vec();
        let mut grid = vec![None; days.len() * n];
        let mut hist_len = vec![0u32; days.len() * n];
        let mut signal = Vec::with_capacity(n);
        for (i, s) in series.into_iter().enumerate() {
            let mut c = 0usize;
            for (k, &day) in days.iter().enumerate() {
                while c < s.dates.len() && s.dates[c] < day {
                    c += 1;
                }
                if c < s.dates.len() && s.dates[c] == day {
                    grid[k * n + i] = Some(s.bar(c));
                    c += 1;
                }
                hist_len[k * n + i] = u32::try_from(c).unwrap_or(u32::MAX);
            }
            signal.push(match prices {
                SignalPrices::Raw => s.close,
                SignalPrices::Adjusted => s
                    .close
                    .iter()
                    .zip(&s.adj_factor)
                    .map(|(c, f)| c * f)
                    .collect(),
            });
        }
        let (mut bench_close, mut bench_hist_len, mut bench_closes) =
            (Vec::new(), Vec::new(), Vec::new());
        if let Some(b) = bench {
            let mut c = 0usize;
            for &day in &days {
                while c < b.dates.len() && b.dates[c] <= day {
                    c += 1;
                }
                bench_close.push(if c > 0 { b.close[c - 1] } else { f64::NAN });
                bench_hist_len.push(u32::try_from(c).unwrap_or(u32::MAX));
            }
            bench_closes = b.close;
        }
        Self {
            instruments,
            days,
            grid,
            hist_len,
            signal,
            bench_close,
            bench_hist_len,
            bench_closes,
            prices,
            next: 0,
        }
    }

    fn current(&self) -> Option<usize> {
        self.next.checked_sub(1)
    }
}

impl History for HistoricalFeed {
    #[inline]
    fn closes(&self, i: InstrumentIndex) -> &[f64] {
        let i = i.get();
        match self.current() {
            Some(k) => &self.signal[i][..self.hist_len[k * self.instruments.len() + i] as usize],
            None => &[],
        }
    }

    #[inline]
    fn last_close(&self, i: InstrumentIndex) -> Option<f64> {
        let k = self.current()?;
        // today's bar is in the block just released (hot in cache)
        match self.grid[k * self.instruments.len() + i.get()] {
            Some(b) => Some(match self.prices {
                SignalPrices::Raw => b.close,
                SignalPrices::Adjusted => b.close * b.adj_factor,
            }),
            None => self.closes(i).last().copied(),
        }
    }

    fn benchmark_closes(&self) -> &[f64] {
        match self.current() {
            Some(k) if !self.bench_hist_len.is_empty() => {
                &self.bench_closes[..self.bench_hist_len[k] as usize]
            }
            _ => &[],
        }
    }
}

impl DataFeed for HistoricalFeed {
    fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    fn advance(&mut self, date: NaiveDate) -> quant_exec::Result<()> {
        let k = if self.days.get(self.next) == Some(&date) {
            self.next
        } else {
            self.days.binary_search(&date).map_err(|_| {
                quant_exec::Error::Feed(format!("{date} is not a day of the feed's calendar"))
            })?
        };
        self.next = k + 1;
        Ok(())
    }

    fn bars(&self) -> &[Option<Bar>] {
        let n = self.instruments.len();
        match self.current() {
            Some(k) => &self.grid[k * n..(k + 1) * n],
            None => &[],
        }
    }

    fn history(&self) -> &dyn History {
        self
    }

    fn benchmark_close(&self) -> f64 {
        self.current()
            .and_then(|k| self.bench_close.get(k).copied())
            .unwrap_or(f64::NAN)
    }
}
