//! The synchronous driver of a backtest: a clock of trading days, a feed
//! of bars and history, a venue; each day turned into the engine's events
//! and the engine's commands into venue calls.
//!
//! Per trading day `d` the clock yields:
//!
//! 1. the feed advances to `d`; [`Event::SessionOpen`];
//! 2. for each bar slot of the day (one for daily bars; every intraday bar
//!    time otherwise, [`DataFeed::slots`]):
//!    1. the venue acts at the bar's open ([`Phase::Open`]); each of its
//!       reports is an [`Event::Report`];
//!    2. [`Event::Bars`] with the bars, history and calendar; each
//!       [`Command`] goes to the venue (`Submit`, `Cancel`) and its reports
//!       back to the engine, until no command is left;
//!    3. the venue acts at the bar's close ([`Phase::Close`]); reports;
//! 3. [`Event::SessionClose`].
//!
//! So T+1, price limits and the day's bookkeeping work on intraday bars
//! as on daily ones: units bought during a day become sellable at the next
//! day's open, and the previous close of the price limits is the previous
//! day's last close.
//!
//! After the last day, working orders expire. Paper replay drives the same
//! engine through the same events, so it gives the same record.

use chrono::NaiveDate;
use quant_core::{Bar, Instrument, TradingCalendar};
use quant_exec::oms::Report;
use quant_exec::{Phase, Venue, VenueEvent};
use quant_strategy::History;

use crate::engine::Engine;
use crate::error::Result;
use crate::event::{Command, Event};
use crate::record::RunRecord;

/// Decides which trading day comes next: a historical clock walks a
/// calendar; a wall clock waits for the next session.
pub trait Clock {
    /// The next trading day to process, `None` when the run is over.
    fn next_session(&mut self) -> Option<NaiveDate>;
}

/// Supplies bars for each trading day and the history strategies read.
pub trait DataFeed {
    /// The instruments, indexed by [`quant_core::InstrumentIndex`].
    fn instruments(&self) -> &[Instrument];
    /// Moves to trading day `date`: its bars become [`DataFeed::bars`] and
    /// history now ends with them.
    ///
    /// # Errors
    /// [`Error::Feed`] when the source fails.
    fn advance(&mut self, date: NaiveDate) -> Result<()>;
    /// Bars of the last advanced day, one slot per instrument, `None` when
    /// the instrument has no bar that day. Borrowed, so a historical feed
    /// serves them without copying.
    fn bars(&self) -> &[Option<Bar>];
    /// History up to and including the last advanced day.
    fn history(&self) -> &dyn History;
    /// The benchmark's close on the last advanced day, NaN when none.
    fn benchmark_close(&self) -> f64;
    /// The run's trading calendar: at least every day the run's clock
    /// yields, ascending (the strategies' schedules pick their days on it,
    /// [`quant_core::Schedule`]).
    fn calendar(&self) -> &TradingCalendar;
    /// Bar slots of the advanced day: 1 for daily bars (the default); the
    /// number of intraday bar times of the day otherwise.
    fn slots(&self) -> usize {
        1
    }
    /// Moves to bar slot `k` (1-based after the day's first, which
    /// [`DataFeed::advance`] releases) of the advanced day: its bars
    /// become [`DataFeed::bars`] and history ends with them.
    ///
    /// # Errors
    /// [`crate::Error::Feed`] for a slot the day does not have.
    fn advance_slot(&mut self, k: usize) -> Result<()> {
        let _ = k;
        Ok(())
    }
    /// The open and close instants of the released bars when they are
    /// intraday; `None` for daily bars (the default).
    fn bar_time(&self) -> Option<(quant_core::UnixNanos, quant_core::UnixNanos)> {
        None
    }
}

/// Reusable buffers of the driver (no allocation per day once warm).
#[derive(Default)]
struct Buffers {
    commands: Vec<Command>,
    pending: Vec<Command>,
    venue: Vec<VenueEvent>,
    /// Timers the engine set, due at the instant.
    timers: Vec<(quant_core::UnixNanos, crate::event::TimerId)>,
}

/// What a driver shows an observer — the paper runtime's journal — on its
/// way: every event before the engine handles it, and every batch of
/// commands before the venue sees it (write-ahead: a tap that makes them
/// durable, and fails the step when it cannot, guarantees that nothing
/// reaches a venue unrecorded). The backtest uses [`NoTap`].
pub trait Tap {
    /// `event` is about to be handled.
    ///
    /// # Errors
    /// Whatever the tap's sink fails with; the step stops there.
    fn event(&mut self, event: &Event<'_>) -> Result<()>;
    /// `commands` are about to go to the venue, in this order.
    ///
    /// # Errors
    /// As [`Tap::event`].
    fn commands(&mut self, commands: &[Command]) -> Result<()>;
}

/// The tap of plain backtests: sees nothing, costs nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTap;

impl Tap for NoTap {
    #[inline]
    fn event(&mut self, _: &Event<'_>) -> Result<()> {
        Ok(())
    }
    #[inline]
    fn commands(&mut self, _: &[Command]) -> Result<()> {
        Ok(())
    }
}

/// Shows `event` to `tap`, then hands it to `engine`.
fn feed_event<T: Tap>(
    engine: &mut Engine,
    tap: &mut T,
    event: Event<'_>,
    out: &mut Vec<Command>,
) -> Result<()> {
    tap.event(&event)?;
    engine.handle(event, out)
}

/// Fires the timers due by `now` (in due order, then by id).
fn fire_timers<V: Venue, T: Tap>(
    engine: &mut Engine,
    venue: &mut V,
    buf: &mut Buffers,
    tap: &mut T,
    now: quant_core::UnixNanos,
) -> Result<()> {
    while let Some(k) = buf
        .timers
        .iter()
        .enumerate()
        .filter(|(_, t)| t.0 <= now)
        .min_by_key(|(_, t)| **t)
        .map(|(k, _)| k)
    {
        let (_, id) = buf.timers.swap_remove(k);
        feed_event(
            engine,
            tap,
            Event::Timer { id, time: now },
            &mut buf.commands,
        )?;
        settle(engine, venue, buf, tap)?;
    }
    Ok(())
}

/// Hands the venue's reports to the engine, and the engine's commands to
/// the venue, until neither has anything left.
fn settle<V: Venue, T: Tap>(
    engine: &mut Engine,
    venue: &mut V,
    buf: &mut Buffers,
    tap: &mut T,
) -> Result<()> {
    loop {
        for ev in buf.venue.drain(..) {
            feed_event(
                engine,
                tap,
                Event::Report(Report::from(ev)),
                &mut buf.commands,
            )?;
        }
        if buf.commands.is_empty() {
            return Ok(());
        }
        std::mem::swap(&mut buf.commands, &mut buf.pending);
        tap.commands(&buf.pending)?;
        for cmd in buf.pending.drain(..) {
            match cmd {
                Command::Submit(o) => venue.submit(&o, &mut buf.venue),
                Command::Cancel(id) => venue.cancel(id, &mut buf.venue),
                Command::Replace {
                    id,
                    order_type,
                    requested,
                } => venue.replace(id, order_type, requested, &mut buf.venue),
                Command::Query(id) => venue.query(id, &mut buf.venue),
                Command::SetTimer { id, at } => buf.timers.push((at, id)),
                Command::CancelTimer(id) => buf.timers.retain(|t| t.1 != id),
                // alerts are the driver's to show (a backtest has nobody to tell)
                Command::Alert { .. } => {}
            }
        }
    }
}

/// Builds an engine over `feed`'s instruments (settlement by `venue`'s
/// market rules) running `strategy`, and runs it ([`run`]).
///
/// # Errors
/// As [`Engine::new`] and [`run`].
pub fn run_strategy<C: Clock, F: DataFeed, V: Venue>(
    config: crate::record::EngineConfig,
    clock: &mut C,
    feed: &mut F,
    venue: &mut V,
    strategy: Box<dyn quant_strategy::Strategy>,
    on_day: impl FnMut(usize),
) -> Result<RunRecord> {
    let instruments = feed.instruments().to_vec();
    let t1 = instruments.iter().map(|i| venue.t_plus_one(i)).collect();
    let engine = Engine::new(config, instruments, t1, strategy)?;
    run(engine, clock, feed, venue, on_day)
}

/// Runs `engine` over the days of `clock` with `feed` and `venue`;
/// `on_day` is called after each day with the number of days done.
///
/// # Errors
/// [`crate::Error::Feed`] when the feed fails or lends a day's bars for
/// another number of instruments; the engine's errors ([`Engine::handle`]).
pub fn run<C: Clock, F: DataFeed, V: Venue>(
    mut engine: Engine,
    clock: &mut C,
    feed: &mut F,
    venue: &mut V,
    mut on_day: impl FnMut(usize),
) -> Result<RunRecord> {
    let mut stepper = Stepper::default();
    let mut days = 0usize;
    while let Some(day) = clock.next_session() {
        stepper.day(&mut engine, day, feed, venue)?;
        days += 1;
        on_day(days);
    }
    if days > 0 {
        stepper.finish(&mut engine, venue)?;
    }
    Ok(engine.into_record())
}

/// The driver one trading day at a time, for callers that stop between
/// days (to snapshot the engine and the venue, or to wait for the wall
/// clock). [`run`] is `day` for every day of the clock, then `finish`.
#[derive(Default)]
pub struct Stepper {
    buf: Buffers,
}

impl Stepper {
    /// Trading day `day`: the feed advances to it, then the five steps of
    /// the module documentation.
    ///
    /// # Errors
    /// As [`run`].
    pub fn day<F: DataFeed, V: Venue>(
        &mut self,
        engine: &mut Engine,
        day: NaiveDate,
        feed: &mut F,
        venue: &mut V,
    ) -> Result<()> {
        self.day_tapped(engine, day, feed, venue, &mut NoTap)
    }

    /// [`Stepper::day`] showing every event and command to `tap` first.
    ///
    /// # Errors
    /// As [`run`], and whatever `tap` fails with.
    pub fn day_tapped<F: DataFeed, V: Venue, T: Tap>(
        &mut self,
        engine: &mut Engine,
        day: NaiveDate,
        feed: &mut F,
        venue: &mut V,
        tap: &mut T,
    ) -> Result<()> {
        let buf = &mut self.buf;
        feed.advance(day)?;
        feed_event(
            engine,
            tap,
            Event::SessionOpen {
                day,
                bars: feed.bars(),
            },
            &mut buf.commands,
        )?;
        for k in 0..feed.slots() {
            if k > 0 {
                feed.advance_slot(k)?;
            }
            let time = feed.bar_time();
            if let Some((open, _)) = time
                && !buf.timers.is_empty()
            {
                fire_timers(engine, venue, buf, tap, open)?;
            }
            venue.on_phase(
                Phase::Open,
                &engine.market(day, feed.bars(), time),
                engine.portfolio(),
                &mut buf.venue,
            );
            settle(engine, venue, buf, tap)?;
            feed_event(
                engine,
                tap,
                Event::Bars {
                    day,
                    time: time.map(|t| t.1),
                    bars: feed.bars(),
                    history: feed.history(),
                    calendar: feed.calendar(),
                },
                &mut buf.commands,
            )?;
            settle(engine, venue, buf, tap)?;
            venue.on_phase(
                Phase::Close,
                &engine.market(day, feed.bars(), time),
                engine.portfolio(),
                &mut buf.venue,
            );
            settle(engine, venue, buf, tap)?;
        }
        feed_event(
            engine,
            tap,
            Event::SessionClose {
                day,
                benchmark: feed.benchmark_close(),
            },
            &mut buf.commands,
        )
    }

    /// The run is over: working orders expire.
    ///
    /// # Errors
    /// As [`run`].
    pub fn finish<V: Venue>(&mut self, engine: &mut Engine, venue: &mut V) -> Result<()> {
        self.finish_tapped(engine, venue, &mut NoTap)
    }

    /// [`Stepper::finish`] showing every event and command to `tap` first.
    ///
    /// # Errors
    /// As [`run`], and whatever `tap` fails with.
    pub fn finish_tapped<V: Venue, T: Tap>(
        &mut self,
        engine: &mut Engine,
        venue: &mut V,
        tap: &mut T,
    ) -> Result<()> {
        // an expiry may make an algorithm send one more order: expire again
        for _ in 0..8 {
            venue.expire_all(&mut self.buf.venue);
            settle(engine, venue, &mut self.buf, tap)?;
            if venue.open_orders() == 0 {
                break;
            }
        }
        engine.end_run()
    }
}
