//! The historical clock and data feed.

use chrono::NaiveDate;
use quant_core::{Bar, Instrument, InstrumentIndex, TradingCalendar};
use quant_data::BarSeries;
use quant_engine::{Clock, DataFeed};
use quant_strategy::{Fundamentals, History, SeriesView};

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
    /// The run's trading days (what [`DataFeed::calendar`] lends).
    calendar: TradingCalendar,
    /// `grid[k * n + i]`: bar of instrument `i` on calendar day `k`.
    grid: Vec<Option<Bar>>,
    /// `hist_len[k * n + i]`: history rows of instrument `i` after day `k`.
    hist_len: Vec<u32>,
    signal: Vec<SignalColumns>,
    /// Fundamentals per instrument, oldest first (empty: none known).
    fundamentals: Vec<Vec<Fundamentals>>,
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
        let days = calendar.days();
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
            signal.push(SignalColumns::new(s, prices));
        }
        let (mut bench_close, mut bench_hist_len, mut bench_closes) =
            (Vec::new(), Vec::new(), Vec::new());
        if let Some(b) = bench {
            let mut c = 0usize;
            for &day in days {
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
            calendar: calendar.clone(),
            grid,
            hist_len,
            signal,
            fundamentals: vec![Vec::new(); n],
            bench_close,
            bench_hist_len,
            bench_closes,
            prices,
            next: 0,
        }
    }

    /// Adds point-in-time fundamentals: `rows[i]` for instrument `i`, in
    /// any order (sorted here by date). A strategy sees the newest row dated
    /// on or before the current day.
    ///
    /// # Panics
    /// When `rows` does not have one entry per instrument.
    #[must_use]
    pub fn with_fundamentals(mut self, mut rows: Vec<Vec<Fundamentals>>) -> Self {
        assert_eq!(
            rows.len(),
            self.instruments.len(),
            "one row list per instrument"
        );
        for r in &mut rows {
            r.sort_by_key(|f| f.date);
        }
        self.fundamentals = rows;
        self
    }

    fn current(&self) -> Option<usize> {
        self.next.checked_sub(1)
    }

    fn hist_rows(&self, i: usize) -> usize {
        match self.current() {
            Some(k) => self.hist_len[k * self.instruments.len() + i] as usize,
            None => 0,
        }
    }
}

/// One instrument's whole history in signal prices.
#[derive(Debug, Clone)]
struct SignalColumns {
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
    amount: Vec<f64>,
}

impl SignalColumns {
    fn new(s: BarSeries, prices: SignalPrices) -> Self {
        let factor = &s.adj_factor;
        let scale = |v: Vec<f64>| match prices {
            SignalPrices::Raw => v,
            SignalPrices::Adjusted => v.iter().zip(factor).map(|(x, f)| x * f).collect(),
        };
        Self {
            open: scale(s.open),
            high: scale(s.high),
            low: scale(s.low),
            close: scale(s.close),
            volume: s.volume,
            amount: s.amount,
        }
    }
}

impl History for HistoricalFeed {
    #[inline]
    fn closes(&self, i: InstrumentIndex) -> &[f64] {
        let i = i.get();
        &self.signal[i].close[..self.hist_rows(i)]
    }

    fn series(&self, i: InstrumentIndex) -> SeriesView<'_> {
        let i = i.get();
        let n = self.hist_rows(i);
        let c = &self.signal[i];
        SeriesView {
            open: &c.open[..n],
            high: &c.high[..n],
            low: &c.low[..n],
            close: &c.close[..n],
            volume: &c.volume[..n],
            amount: &c.amount[..n],
        }
    }

    fn fundamentals(&self, i: InstrumentIndex) -> Option<Fundamentals> {
        let today = self.calendar.days()[self.current()?];
        let rows = &self.fundamentals[i.get()];
        let known = rows.partition_point(|f| f.date <= today);
        known.checked_sub(1).map(|j| rows[j])
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

    /// Daily bars are the run's own.
    fn series_of(
        &self,
        i: InstrumentIndex,
        interval: quant_core::Interval,
    ) -> Option<SeriesView<'_>> {
        (interval == quant_core::Interval::D1).then(|| self.series(i))
    }
}

impl DataFeed for HistoricalFeed {
    fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    fn advance(&mut self, date: NaiveDate) -> quant_engine::Result<()> {
        let days = self.calendar.days();
        let k = if days.get(self.next) == Some(&date) {
            self.next
        } else {
            days.binary_search(&date).map_err(|_| {
                quant_engine::Error::Feed(format!("{date} is not a day of the feed's calendar"))
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

    /// The calendar the feed was built on: the run's trading days from
    /// `backtest.start` to `backtest.end`.
    fn calendar(&self) -> &TradingCalendar {
        &self.calendar
    }
}

/// The feed of a configured run: daily bars ([`HistoricalFeed`]) or
/// intraday bars ([`crate::intraday::IntradayFeed`], `data.interval`).
#[derive(Debug, Clone)]
pub enum RunFeed {
    /// Daily bars.
    Daily(HistoricalFeed),
    /// Intraday bars.
    Intraday(crate::intraday::IntradayFeed),
}

impl RunFeed {
    fn inner(&self) -> &dyn DataFeed {
        match self {
            Self::Daily(f) => f,
            Self::Intraday(f) => f,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn DataFeed {
        match self {
            Self::Daily(f) => f,
            Self::Intraday(f) => f,
        }
    }
}

impl DataFeed for RunFeed {
    fn instruments(&self) -> &[Instrument] {
        self.inner().instruments()
    }
    fn advance(&mut self, date: NaiveDate) -> quant_engine::Result<()> {
        self.inner_mut().advance(date)
    }
    fn bars(&self) -> &[Option<Bar>] {
        self.inner().bars()
    }
    fn history(&self) -> &dyn History {
        self.inner().history()
    }
    fn benchmark_close(&self) -> f64 {
        self.inner().benchmark_close()
    }
    fn calendar(&self) -> &TradingCalendar {
        self.inner().calendar()
    }
    fn slots(&self) -> usize {
        self.inner().slots()
    }
    fn advance_slot(&mut self, k: usize) -> quant_engine::Result<()> {
        self.inner_mut().advance_slot(k)
    }
    fn bar_time(&self) -> Option<(quant_core::UnixNanos, quant_core::UnixNanos)> {
        self.inner().bar_time()
    }
}
