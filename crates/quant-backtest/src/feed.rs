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
/// Each instrument's rows are consumed in date order; a row whose date is
/// not a calendar day is skipped (it still enters history). History slices
/// end at the last consumed row, so strategies cannot see the future.
#[derive(Debug, Clone)]
pub struct HistoricalFeed {
    instruments: Vec<Instrument>,
    series: Vec<BarSeries>,
    signal: Vec<Vec<f64>>,
    cursor: Vec<usize>,
    bench: Option<BarSeries>,
    bench_cursor: usize,
}

impl HistoricalFeed {
    /// A feed over `series[i]` for `instruments[i]`, with an optional benchmark.
    ///
    /// # Panics
    /// When the two vectors differ in length.
    pub fn new(
        instruments: Vec<Instrument>,
        series: Vec<BarSeries>,
        bench: Option<BarSeries>,
        prices: SignalPrices,
    ) -> Self {
        assert_eq!(instruments.len(), series.len(), "one series per instrument");
        let signal = series
            .iter()
            .map(|s| match prices {
                SignalPrices::Raw => s.close.clone(),
                SignalPrices::Adjusted => s
                    .close
                    .iter()
                    .zip(&s.adj_factor)
                    .map(|(c, f)| c * f)
                    .collect(),
            })
            .collect();
        let n = series.len();
        Self {
            instruments,
            series,
            signal,
            cursor: vec![0; n],
            bench,
            bench_cursor: 0,
        }
    }
}

impl History for HistoricalFeed {
    #[inline]
    fn closes(&self, i: InstrumentIndex) -> &[f64] {
        let i = i.get();
        &self.signal[i][..self.cursor[i]]
    }

    fn benchmark_closes(&self) -> &[f64] {
        self.bench
            .as_ref()
            .map_or(&[], |b| &b.close[..self.bench_cursor])
    }
}

impl DataFeed for HistoricalFeed {
    fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    fn advance(&mut self, date: NaiveDate, bars: &mut [Option<Bar>]) -> quant_exec::Result<()> {
        for (i, s) in self.series.iter().enumerate() {
            let mut c = self.cursor[i];
            while c < s.dates.len() && s.dates[c] < date {
                c += 1;
            }
            if c < s.dates.len() && s.dates[c] == date {
                bars[i] = Some(s.bar(c));
                c += 1;
            } else {
                bars[i] = None;
            }
            self.cursor[i] = c;
        }
        if let Some(b) = &self.bench {
            while self.bench_cursor < b.dates.len() && b.dates[self.bench_cursor] <= date {
                self.bench_cursor += 1;
            }
        }
        Ok(())
    }

    fn history(&self) -> &dyn History {
        self
    }

    fn benchmark_close(&self) -> f64 {
        match &self.bench {
            Some(b) if self.bench_cursor > 0 => b.close[self.bench_cursor - 1],
            _ => f64::NAN,
        }
    }
}
