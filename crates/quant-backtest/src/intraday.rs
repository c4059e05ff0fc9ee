//! The feed of intraday backtests: 5-minute A-share bars, hourly crypto
//! bars — one slot per bar time of each trading day, released in order.
//!
//! Every instrument's bars are keyed by their close instant
//! ([`quant_data::intraday`]); the bar times of a day are the union of
//! the instruments' (an instrument without a bar at a time is `None`
//! there: suspended or not traded). History (what strategies read) is the
//! instrument's bars up to and including the released one — never a later
//! one. A higher interval is visible only once closed:
//! [`History::series_of`] with [`Interval::D1`] gives the trading days
//! completed so far, today's included only after its last bar.
//!
//! Prices are raw (intraday files carry no adjustment factor).

use chrono::NaiveDate;
use quant_core::{Bar, Instrument, InstrumentIndex, Interval, TradingCalendar, UnixNanos};
use quant_data::intraday::IntradaySeries;
use quant_engine::DataFeed;
use quant_strategy::{History, SeriesView};

/// One instrument's bar columns (the intraday series and its daily bars).
#[derive(Debug, Clone, Default)]
struct Columns {
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
    amount: Vec<f64>,
}

impl Columns {
    fn view(&self, len: usize) -> SeriesView<'_> {
        let len = len.min(self.close.len());
        SeriesView {
            open: &self.open[..len],
            high: &self.high[..len],
            low: &self.low[..len],
            close: &self.close[..len],
            volume: &self.volume[..len],
            amount: &self.amount[..len],
        }
    }

    fn push(&mut self, o: f64, h: f64, l: f64, c: f64, v: f64, a: f64) {
        self.open.push(o);
        self.high.push(h);
        self.low.push(l);
        self.close.push(c);
        self.volume.push(v);
        self.amount.push(a);
    }
}

/// Intraday bars from memory, one bar time at a time.
#[derive(Debug, Clone)]
pub struct IntradayFeed {
    instruments: Vec<Instrument>,
    calendar: TradingCalendar,
    interval: Interval,
    /// Per calendar day: its slots `[start, end)` in the slot arrays.
    day_slots: Vec<(usize, usize)>,
    /// Per slot: the bars' open and close instants.
    slot_times: Vec<(UnixNanos, UnixNanos)>,
    /// `grid[s * n + i]`: instrument `i`'s bar at slot `s`.
    grid: Vec<Option<Bar>>,
    /// `hist_len[s * n + i]`: intraday history rows of `i` after slot `s`.
    hist_len: Vec<u32>,
    cols: Vec<Columns>,
    /// Daily bars built from the intraday ones, and per calendar day the
    /// number completed once the day has closed.
    daily: Vec<Columns>,
    daily_len: Vec<u32>,
    bench_close: Vec<f64>,
    bench_closes: Vec<f64>,
    bench_len: Vec<u32>,
    /// Current calendar day and slot.
    day: usize,
    slot: usize,
    today: Vec<Option<Bar>>,
}

impl IntradayFeed {
    /// A feed over `series[i]` for `instruments[i]` (all of one interval)
    /// on the days of `calendar`; `bench` is an optional daily benchmark
    /// (its close per day for `equity.csv`).
    ///
    /// # Errors
    /// A message when the series differ in interval or count.
    pub fn new(
        instruments: Vec<Instrument>,
        series: Vec<IntradaySeries>,
        bench: Option<quant_data::BarSeries>,
        calendar: &TradingCalendar,
    ) -> Result<Self, String> {
        let n = instruments.len();
        if series.len() != n {
            return Err(format!("{} series for {n} instruments", series.len()));
        }
        let interval = series.first().map_or(Interval::M5, |s| s.interval);
        if let Some(s) = series.iter().find(|s| s.interval != interval) {
            return Err(format!(
                "{} has {} bars, the others {interval}: one run, one interval",
                s.symbol, s.interval
            ));
        }
        let days = calendar.days();
        // the bar times of each day: the union over the instruments
        let mut times: Vec<(usize, UnixNanos)> = Vec::new();
        for s in &series {
            for k in 0..s.len() {
                if let Some(d) = s.trading_day(k)
                    && let Ok(di) = days.binary_search(&d)
                {
                    times.push((di, s.close_times[k]));
                }
            }
        }
        times.sort();
        times.dedup();
        let mut day_slots = vec![(0usize, 0usize); days.len()];
        let mut slot_times = Vec::with_capacity(times.len());
        for (s, (di, t)) in times.iter().enumerate() {
            if day_slots[*di].1 == 0 {
                day_slots[*di] = (s, s);
            }
            day_slots[*di].1 = s + 1;
            let open = t.checked_sub(interval.nanos()).unwrap_or(*t);
            slot_times.push((open, *t));
        }
        let slots = slot_times.len();
        let mut grid = vec![None; slots * n];
        let mut hist_len = vec![0u32; slots * n];
        let mut cols = vec![Columns::default(); n];
        let mut daily = vec![Columns::default(); n];
        let mut daily_len = vec![0u32; days.len() * n];
        for (i, s) in series.iter().enumerate() {
            let mut k = 0usize;
            for (slot, (_, close)) in slot_times.iter().enumerate() {
                while k < s.len() && s.close_times[k] < *close {
                    // a bar of a day outside the calendar: history only
                    cols[i].push(
                        s.open[k],
                        s.high[k],
                        s.low[k],
                        s.close[k],
                        s.volume[k],
                        s.amount[k],
                    );
                    k += 1;
                }
                if k < s.len() && s.close_times[k] == *close {
                    let date = s.trading_day(k).unwrap_or(NaiveDate::MIN);
                    grid[slot * n + i] = Some(Bar {
                        date,
                        open: s.open[k],
                        high: s.high[k],
                        low: s.low[k],
                        close: s.close[k],
                        pre_close: f64::NAN,
                        volume: s.volume[k],
                        amount: s.amount[k],
                        adj_factor: 1.0,
                    });
                    cols[i].push(
                        s.open[k],
                        s.high[k],
                        s.low[k],
                        s.close[k],
                        s.volume[k],
                        s.amount[k],
                    );
                    k += 1;
                }
                hist_len[slot * n + i] = u32::try_from(cols[i].close.len()).unwrap_or(u32::MAX);
            }
            // daily bars of the calendar's days
            for (di, &(a, b)) in day_slots.iter().enumerate() {
                let bars: Vec<&Bar> = (a..b).filter_map(|sl| grid[sl * n + i].as_ref()).collect();
                if let (Some(first), Some(last)) = (bars.first(), bars.last()) {
                    let high = bars.iter().map(|b| b.high).fold(f64::MIN, f64::max);
                    let low = bars.iter().map(|b| b.low).fold(f64::MAX, f64::min);
                    let volume = bars.iter().map(|b| b.volume).sum();
                    let amount = bars.iter().map(|b| b.amount).sum();
                    daily[i].push(first.open, high, low, last.close, volume, amount);
                }
                daily_len[di * n + i] = u32::try_from(daily[i].close.len()).unwrap_or(u32::MAX);
            }
        }
        let (mut bench_close, mut bench_len, mut bench_closes) =
            (Vec::new(), Vec::new(), Vec::new());
        if let Some(b) = bench {
            let mut c = 0usize;
            for &day in days {
                while c < b.dates.len() && b.dates[c] <= day {
                    c += 1;
                }
                bench_close.push(if c > 0 { b.close[c - 1] } else { f64::NAN });
                bench_len.push(u32::try_from(c).unwrap_or(u32::MAX));
            }
            bench_closes = b.close;
        }
        Ok(Self {
            today: vec![None; n],
            instruments,
            calendar: calendar.clone(),
            interval,
            day_slots,
            slot_times,
            grid,
            hist_len,
            cols,
            daily,
            daily_len,
            bench_close,
            bench_closes,
            bench_len,
            day: 0,
            slot: 0,
        })
    }

    /// The bars' interval.
    pub fn interval(&self) -> Interval {
        self.interval
    }

    fn release(&mut self, slot: usize) {
        let n = self.instruments.len();
        self.slot = slot;
        for (i, t) in self.today.iter_mut().enumerate() {
            *t = self.grid.get(slot * n + i).copied().flatten();
        }
    }

    /// Whether the current slot is the day's last (the day is closed).
    fn day_closed(&self) -> bool {
        self.day_slots
            .get(self.day)
            .is_some_and(|&(_, end)| self.slot + 1 >= end)
    }
}

impl History for IntradayFeed {
    fn closes(&self, i: InstrumentIndex) -> &[f64] {
        let n = self.instruments.len();
        let len = self
            .hist_len
            .get(self.slot * n + i.get())
            .copied()
            .unwrap_or(0) as usize;
        self.cols
            .get(i.get())
            .map_or(&[], |c| &c.close[..len.min(c.close.len())])
    }

    fn benchmark_closes(&self) -> &[f64] {
        let len = self.bench_len.get(self.day).copied().unwrap_or(0) as usize;
        &self.bench_closes[..len.min(self.bench_closes.len())]
    }

    fn series(&self, i: InstrumentIndex) -> SeriesView<'_> {
        let n = self.instruments.len();
        let len = self
            .hist_len
            .get(self.slot * n + i.get())
            .copied()
            .unwrap_or(0) as usize;
        self.cols
            .get(i.get())
            .map_or_else(SeriesView::default, |c| c.view(len))
    }

    fn series_of(&self, i: InstrumentIndex, interval: Interval) -> Option<SeriesView<'_>> {
        if interval == self.interval {
            return Some(self.series(i));
        }
        if interval != Interval::D1 {
            return None;
        }
        let n = self.instruments.len();
        // days completed: yesterday's count, today's once its last bar closed
        let day = if self.day_closed() {
            Some(self.day)
        } else {
            self.day.checked_sub(1)
        };
        let len = day
            .and_then(|d| self.daily_len.get(d * n + i.get()).copied())
            .unwrap_or(0) as usize;
        self.daily.get(i.get()).map(|c| c.view(len))
    }
}

impl DataFeed for IntradayFeed {
    fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    fn advance(&mut self, date: NaiveDate) -> quant_engine::Result<()> {
        let di = self.calendar.index_of(date).ok_or_else(|| {
            quant_engine::Error::Feed(format!("{date} is not a day of the feed's calendar"))
        })?;
        self.day = di;
        let (start, end) = self.day_slots.get(di).copied().unwrap_or((0, 0));
        if start < end {
            self.release(start);
        } else {
            // a calendar day without any bar: nothing trades
            self.today.iter_mut().for_each(|t| *t = None);
        }
        Ok(())
    }

    fn bars(&self) -> &[Option<Bar>] {
        &self.today
    }

    fn history(&self) -> &dyn History {
        self
    }

    fn benchmark_close(&self) -> f64 {
        self.bench_close.get(self.day).copied().unwrap_or(f64::NAN)
    }

    fn calendar(&self) -> &TradingCalendar {
        &self.calendar
    }

    fn slots(&self) -> usize {
        self.day_slots
            .get(self.day)
            .map_or(0, |&(a, b)| b.saturating_sub(a))
    }

    fn advance_slot(&mut self, k: usize) -> quant_engine::Result<()> {
        let (start, end) = self.day_slots.get(self.day).copied().unwrap_or((0, 0));
        if start + k >= end {
            return Err(quant_engine::Error::Feed(format!(
                "slot {k} of a day with {} bars",
                end - start
            )));
        }
        self.release(start + k);
        Ok(())
    }

    fn bar_time(&self) -> Option<(UnixNanos, UnixNanos)> {
        self.slot_times.get(self.slot).copied()
    }
}
