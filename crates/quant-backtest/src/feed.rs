//! The historical clock and data feed.

use chrono::{Datelike, NaiveDate};
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
/// The series are kept as they were loaded, one set of columns per
/// instrument (what [`History`] lends as slices), without a copy: at
/// construction each column is only trimmed to its length, and `pre_close`
/// and `adj_factor` are kept as the rows where they differ from what the
/// previous row implies (the previous close; the previous factor), which on
/// most days they do not. Bars are gathered a few days at a time into one
/// reused day-major block (one slot per instrument and day, `None` where
/// the instrument has no row), so that the columns are read in runs and
/// the engine reads a released day's bars contiguously. Rows
/// dated before the first calendar day, or on days outside the calendar,
/// enter history but are never released as bars. History slices end at
/// the last released day, so strategies cannot see the future.
#[derive(Debug, Clone)]
pub struct HistoricalFeed {
    instruments: Vec<Instrument>,
    /// The run's trading days (what [`DataFeed::calendar`] lends).
    calendar: TradingCalendar,
    /// Per instrument: its rows, in signal prices and raw.
    cols: Vec<Columns>,
    /// Bars of [`Self::block_days`] consecutive calendar days from
    /// `block_start`, day-major: `block[j * n + i]` is instrument `i`'s bar
    /// on day `block_start + j` (`None`: no row). Gathered a block at a
    /// time, instrument by instrument, so that each column is read in
    /// runs of consecutive rows; the released day is one contiguous slice.
    block: Vec<Option<Bar>>,
    /// `block_rows[j * n + i]`: history rows of instrument `i` up to and
    /// including day `block_start + j`.
    block_rows: Vec<u32>,
    /// The calendar index of the block's first day.
    block_start: usize,
    /// Days gathered in the block (0: none yet).
    block_len: usize,
    /// Days per block: as many as fit about [`BLOCK_BYTES`], 4 to 64.
    block_days: usize,
    /// Per instrument: history rows up to the end of the block.
    rows: Vec<u32>,
    /// Per instrument: the first `pre_close` exception at or after `rows`.
    pre_next: Vec<u32>,
    /// Per instrument: the `adj_factor` change in force at `rows` (the
    /// next one to apply is this + 1).
    adj_at: Vec<u32>,
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
        let cols: Vec<Columns> = series
            .into_iter()
            .map(|s| Columns::new(s, prices))
            .collect();
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
            cols,
            block: Vec::new(),
            block_rows: Vec::new(),
            block_start: 0,
            block_len: 0,
            block_days: (BLOCK_BYTES / (n.max(1) * std::mem::size_of::<Option<Bar>>()))
                .clamp(4, 64),
            rows: vec![0; n],
            pre_next: vec![0; n],
            adj_at: vec![0; n],
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
            Some(k) => {
                self.block_rows[(k - self.block_start) * self.instruments.len() + i] as usize
            }
            None => 0,
        }
    }

    /// The released day's bars, one slot per instrument.
    fn today(&self) -> &[Option<Bar>] {
        match self.current() {
            Some(k) => {
                let n = self.instruments.len();
                let j = k - self.block_start;
                &self.block[j * n..(j + 1) * n]
            }
            None => &[],
        }
    }

    /// Gathers the block of days from calendar index `k`: every
    /// instrument's cursor moves over its rows dated up to each day. The
    /// cursors must stand at the first row dated on or after day `k`
    /// (they do after the previous block; [`Self::seek`] puts them there
    /// otherwise).
    fn gather(&mut self, k: usize) {
        let days = &self.calendar.days()[k..];
        let len = days.len().min(self.block_days);
        let n = self.cols.len();
        self.block.clear();
        self.block.resize(len * n, None);
        self.block_rows.clear();
        self.block_rows.resize(len * n, 0);
        // the block's rows of the instruments a few places ahead are
        // touched before they are gathered, so that their cache misses
        // overlap the work on the ones before them instead of stalling it
        let mut touched = 0u64;
        for i in 0..TOUCH_AHEAD.min(n) {
            touched ^= self.cols[i].touch(self.rows[i] as usize, len);
        }
        for (i, c) in self.cols.iter().enumerate() {
            if let Some(ahead) = self.cols.get(i + TOUCH_AHEAD) {
                touched ^= ahead.touch(self.rows[i + TOUCH_AHEAD] as usize, len);
            }
            let mut r = self.rows[i] as usize;
            let (mut pre, mut adj) = (self.pre_next[i], self.adj_at[i]);
            let dates = &c.dates[..];
            for (j, &day) in days[..len].iter().enumerate() {
                while r < dates.len() && dates[r] < day {
                    r += 1;
                }
                if r < dates.len() && dates[r] == day {
                    self.block[j * n + i] = Some(c.bar(r, day, &mut pre, &mut adj));
                    r += 1;
                }
                self.block_rows[j * n + i] = u32::try_from(r).unwrap_or(u32::MAX);
            }
            self.rows[i] = u32::try_from(r).unwrap_or(u32::MAX);
            self.pre_next[i] = pre;
            self.adj_at[i] = adj;
        }
        std::hint::black_box(touched);
        self.block_start = k;
        self.block_len = len;
    }

    /// Puts every cursor at the first row dated on or after `day` (a feed
    /// brought to a day out of order).
    fn seek(&mut self, day: NaiveDate) {
        for (i, c) in self.cols.iter().enumerate() {
            let r = c.dates.partition_point(|d| *d < day);
            let (pre, adj) = c.cursors(r);
            self.pre_next[i] = pre;
            self.adj_at[i] = adj;
            self.rows[i] = u32::try_from(r).unwrap_or(u32::MAX);
        }
    }
}

/// About how many bytes of bars a block holds (see
/// [`HistoricalFeed::gather`]): a few days of a large universe, small
/// enough to stay in the core's cache while the days are run.
const BLOCK_BYTES: usize = 1 << 20;

/// How many instruments ahead [`HistoricalFeed::gather`] touches the
/// rows it will read.
const TOUCH_AHEAD: usize = 4;

/// Rows where a derived column differs from what the previous row implies
/// (`Patched`), or the whole column when most rows do (`Dense`).
#[derive(Debug, Clone)]
enum Derived {
    /// Every row's value.
    Dense(Vec<f64>),
    /// The rows (ascending) whose value is not the implied one, and their
    /// values; row 0 is always listed.
    Patched { rows: Vec<u32>, values: Vec<f64> },
}

impl Derived {
    /// `values`, stored as exceptions to `implied(r)` (row `r`'s value as
    /// the previous row implies it) when that is smaller. Equality is of
    /// the bits, so a value read back is the same `f64`.
    fn new(mut values: Vec<f64>, implied: impl Fn(&[f64], usize) -> f64) -> Self {
        let n = values.len();
        let differs = |v: &[f64], r: usize| r == 0 || v[r].to_bits() != implied(v, r).to_bits();
        let count = (0..n).filter(|&r| differs(&values, r)).count();
        // a row and a value (12 bytes) per exception against 8 per row
        if count * 3 > n * 2 {
            values.shrink_to_fit();
            return Self::Dense(values);
        }
        let mut rows = Vec::with_capacity(count);
        let mut vals = Vec::with_capacity(count);
        for r in (0..n).filter(|&r| differs(&values, r)) {
            rows.push(u32::try_from(r).unwrap_or(u32::MAX));
            vals.push(values[r]);
        }
        Self::Patched { rows, values: vals }
    }

    /// The first exception at or after row `r` (0 when dense).
    fn first_from(&self, r: usize) -> u32 {
        match self {
            Self::Dense(_) => 0,
            Self::Patched { rows, .. } => {
                let k = rows.partition_point(|&x| (x as usize) < r);
                u32::try_from(k).unwrap_or(u32::MAX)
            }
        }
    }
}

/// One instrument's rows: dates; open, high, low, close in signal prices
/// (raw, or back-adjusted) with volume and amount, the columns [`History`]
/// lends; raw prices when they differ; `pre_close` and `adj_factor`.
#[derive(Debug, Clone)]
struct Columns {
    dates: Vec<NaiveDate>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
    amount: Vec<f64>,
    /// Raw open, high, low and close when signal prices are adjusted.
    raw: Option<Box<[Vec<f64>; 4]>>,
    /// Implied: the previous row's raw close.
    pre_close: Derived,
    /// Implied: the previous row's factor.
    adj_factor: Derived,
}

impl Columns {
    fn new(s: BarSeries, prices: SignalPrices) -> Self {
        let trim = |mut v: Vec<f64>| {
            v.shrink_to_fit();
            v
        };
        let BarSeries {
            mut dates,
            open,
            high,
            low,
            close,
            pre_close,
            volume,
            amount,
            adj_factor,
            ..
        } = s;
        dates.shrink_to_fit();
        let pre_close = Derived::new(pre_close, |_, r| close[r - 1]);
        let (open, high, low, close, raw) = match prices {
            SignalPrices::Raw => (trim(open), trim(high), trim(low), trim(close), None),
            SignalPrices::Adjusted => {
                let scale = |v: &[f64]| v.iter().zip(&adj_factor).map(|(x, f)| x * f).collect();
                (
                    scale(&open),
                    scale(&high),
                    scale(&low),
                    scale(&close),
                    Some(Box::new([trim(open), trim(high), trim(low), trim(close)])),
                )
            }
        };
        let adj = Derived::new(adj_factor, |v, r| v[r - 1]);
        Self {
            dates,
            open,
            high,
            low,
            close,
            volume: trim(volume),
            amount: trim(amount),
            raw,
            pre_close,
            adj_factor: adj,
        }
    }

    /// Reads one value from each cache line of rows `r..r + len` of the
    /// columns a bar is made of (their bits folded together, for the
    /// caller to keep): brings them into the cache ahead of use.
    #[inline]
    fn touch(&self, r: usize, len: usize) -> u64 {
        // a cache line holds 8 values, 16 dates
        const LINE: usize = 8;
        let end = (r + len).min(self.dates.len());
        let mut x = 0u64;
        if r >= end {
            return x;
        }
        x ^= u64::from(self.dates[r].num_days_from_ce().cast_unsigned());
        x ^= u64::from(self.dates[end - 1].num_days_from_ce().cast_unsigned());
        let cols: [&[f64]; 6] = match &self.raw {
            None => [
                &self.open,
                &self.high,
                &self.low,
                &self.close,
                &self.volume,
                &self.amount,
            ],
            Some(raw) => [
                &raw[0],
                &raw[1],
                &raw[2],
                &raw[3],
                &self.volume,
                &self.amount,
            ],
        };
        for col in cols {
            let mut k = r;
            while k < end {
                x ^= col[k].to_bits();
                k += LINE;
            }
            x ^= col[end - 1].to_bits();
        }
        x
    }

    /// The cursors of the derived columns for row `r` (see
    /// [`Columns::bar`]).
    fn cursors(&self, r: usize) -> (u32, u32) {
        let adj = match &self.adj_factor {
            Derived::Dense(_) => 0,
            // the change in force at `r`: the last listed at or before it
            Derived::Patched { rows, .. } => {
                let k = rows.partition_point(|&x| x as usize <= r);
                u32::try_from(k.saturating_sub(1)).unwrap_or(u32::MAX)
            }
        };
        (self.pre_close.first_from(r), adj)
    }

    /// The bar of row `r`, dated `day` (its date). `pre` is the first
    /// `pre_close` exception at or after `r`, `adj` the `adj_factor`
    /// change in force before `r`; both move on to row `r + 1`.
    #[inline]
    fn bar(&self, r: usize, day: NaiveDate, pre: &mut u32, adj: &mut u32) -> Bar {
        let (open, high, low, close) = match &self.raw {
            None => (self.open[r], self.high[r], self.low[r], self.close[r]),
            Some(raw) => (raw[0][r], raw[1][r], raw[2][r], raw[3][r]),
        };
        let pre_close = match &self.pre_close {
            Derived::Dense(v) => v[r],
            Derived::Patched { rows, values } => {
                let mut k = *pre as usize;
                // rows skipped (off the calendar) had their own exceptions
                while k < rows.len() && (rows[k] as usize) < r {
                    k += 1;
                }
                if k < rows.len() && rows[k] as usize == r {
                    *pre = u32::try_from(k + 1).unwrap_or(u32::MAX);
                    values[k]
                } else {
                    *pre = u32::try_from(k).unwrap_or(u32::MAX);
                    match &self.raw {
                        None => self.close[r - 1],
                        Some(raw) => raw[3][r - 1],
                    }
                }
            }
        };
        let adj_factor = match &self.adj_factor {
            Derived::Dense(v) => v[r],
            Derived::Patched { rows, values } => {
                let mut k = *adj as usize;
                while k + 1 < rows.len() && rows[k + 1] as usize <= r {
                    k += 1;
                }
                *adj = u32::try_from(k).unwrap_or(u32::MAX);
                values[k]
            }
        };
        Bar {
            date: day,
            open,
            high,
            low,
            close,
            pre_close,
            volume: self.volume[r],
            amount: self.amount[r],
            adj_factor,
        }
    }
}

impl History for HistoricalFeed {
    #[inline]
    fn closes(&self, i: InstrumentIndex) -> &[f64] {
        let i = i.get();
        &self.cols[i].close[..self.hist_rows(i)]
    }

    fn series(&self, i: InstrumentIndex) -> SeriesView<'_> {
        let i = i.get();
        let n = self.hist_rows(i);
        let c = &self.cols[i];
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
        self.current()?;
        // today's bar is in the block just gathered (hot in cache)
        match self.today()[i.get()] {
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
        let end = self.block_start + self.block_len;
        if !(self.block_start..end).contains(&k) {
            if k != end {
                self.seek(date);
            }
            self.gather(k);
        }
        self.next = k + 1;
        Ok(())
    }

    fn bars(&self) -> &[Option<Bar>] {
        self.today()
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
