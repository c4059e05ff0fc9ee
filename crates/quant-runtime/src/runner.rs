//! The runner: one session of a config on the one engine, stepped a
//! trading day at a time exactly as `quant-backtest run` steps it (the
//! same [`quant_backtest::run::Session`], the same
//! [`quant_engine::Stepper`]), with a tap on every event and command and a
//! [`SessionSnapshot`] of everything between days.
//!
//! So a paper replay over a range and a backtest over that range give the
//! same record: that equality is the test that the modes share one engine.

use chrono::NaiveDate;
use quant_backtest::run::{Prepared, Session, result};
use quant_backtest::{BacktestConfig, BacktestResult};
use quant_core::Instrument;
use quant_engine::{Clock, DataFeed, Engine, Snapshot, Stepper, Tap};
use quant_exec::{SimulatedVenue, Venue};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Everything of a session between two trading days: the engine
/// (portfolio, orders, risk gate, strategy), the simulated venue's working
/// orders, and where the session is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSnapshot {
    /// Trading days stepped.
    pub days_done: usize,
    /// The last of them.
    pub last_day: Option<NaiveDate>,
    /// Whether the run ended (working orders expired, the record closed).
    pub finished: bool,
    /// The engine's state.
    pub engine: Snapshot,
    /// The venue's state.
    pub venue: SimulatedVenue,
}

impl SessionSnapshot {
    /// The snapshot as CBOR bytes.
    ///
    /// # Errors
    /// [`Error::Snapshot`] when it does not encode.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        ciborium::into_writer(self, &mut out)
            .map_err(|e| Error::Snapshot(format!("encoding the session: {e}")))?;
        Ok(out)
    }

    /// A snapshot from [`SessionSnapshot::to_bytes`]' bytes.
    ///
    /// # Errors
    /// [`Error::Snapshot`] for bytes that do not decode.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        ciborium::from_reader(bytes)
            .map_err(|e| Error::Snapshot(format!("decoding the session: {e}")))
    }
}

/// A session of a config (see the module docs).
pub struct Runner {
    cfg: BacktestConfig,
    instruments: Vec<Instrument>,
    session: Session,
    engine: Engine,
    stepper: Stepper,
    days_done: usize,
    last_day: Option<NaiveDate>,
    finished: bool,
}

impl Runner {
    /// A session of `cfg` on `prepared`, before its first day.
    ///
    /// # Errors
    /// [`Error::Backtest`] for venue settings out of range; the engine's
    /// and the strategy's errors.
    pub fn new(cfg: &BacktestConfig, prepared: Prepared) -> Result<Self> {
        let instruments = prepared.instruments.clone();
        let session = Session::new(cfg, prepared)?;
        let insts = session.feed.instruments().to_vec();
        let t1 = insts.iter().map(|i| session.venue.t_plus_one(i)).collect();
        let engine = Engine::new(session.engine.clone(), insts, t1, cfg.strategy.build()?)?;
        Ok(Self {
            cfg: cfg.clone(),
            instruments,
            session,
            engine,
            stepper: Stepper::default(),
            days_done: 0,
            last_day: None,
            finished: false,
        })
    }

    /// The session of `cfg` on `prepared` in the state of `snap`: the
    /// engine restored into a freshly built strategy, the venue decoded,
    /// the clock and the feed brought past the snapshot's last day.
    ///
    /// # Errors
    /// As [`Runner::new`]; [`Error::State`] when the snapshot's last day is
    /// not a day of the calendar (the data changed under the session).
    pub fn restore(
        cfg: &BacktestConfig,
        prepared: Prepared,
        snap: &SessionSnapshot,
    ) -> Result<Self> {
        let instruments = prepared.instruments.clone();
        let mut session = Session::new(cfg, prepared)?;
        if let Some(last) = snap.last_day {
            let mut n = 0usize;
            loop {
                let Some(day) = session.clock.next_session() else {
                    return Err(Error::State {
                        dir: cfg.path.clone(),
                        message: format!(
                            "the snapshot's last day {last} is not a trading day of the data"
                        ),
                    });
                };
                session.feed.advance(day)?;
                n += 1;
                if day == last {
                    break;
                }
            }
            if n != snap.days_done {
                return Err(Error::State {
                    dir: cfg.path.clone(),
                    message: format!(
                        "the snapshot is after {} days, the data has {n} days up to {last}",
                        snap.days_done
                    ),
                });
            }
        }
        let engine = Engine::restore(&snap.engine, cfg.strategy.build()?)?;
        session.venue = snap.venue.clone();
        Ok(Self {
            cfg: cfg.clone(),
            instruments,
            session,
            engine,
            stepper: Stepper::default(),
            days_done: snap.days_done,
            last_day: snap.last_day,
            finished: snap.finished,
        })
    }

    /// Steps the next trading day with `tap`; `None` when no day is left.
    ///
    /// # Errors
    /// The engine's errors, and the tap's.
    pub fn step<T: Tap>(&mut self, tap: &mut T) -> Result<Option<NaiveDate>> {
        if self.finished {
            return Ok(None);
        }
        let Some(day) = self.session.clock.next_session() else {
            return Ok(None);
        };
        self.stepper.day_tapped(
            &mut self.engine,
            day,
            &mut self.session.feed,
            &mut self.session.venue,
            tap,
        )?;
        self.days_done += 1;
        self.last_day = Some(day);
        Ok(Some(day))
    }

    /// Ends the run: working orders expire (the backtest's end of run).
    ///
    /// # Errors
    /// As [`Runner::step`].
    pub fn finish<T: Tap>(&mut self, tap: &mut T) -> Result<()> {
        if !self.finished {
            self.stepper
                .finish_tapped(&mut self.engine, &mut self.session.venue, tap)?;
            self.finished = true;
        }
        Ok(())
    }

    /// Everything now, to journal and resume from.
    ///
    /// # Errors
    /// [`Error::Engine`] when the engine or the strategy cannot save.
    pub fn snapshot(&self) -> Result<SessionSnapshot> {
        Ok(SessionSnapshot {
            days_done: self.days_done,
            last_day: self.last_day,
            finished: self.finished,
            engine: self.engine.snapshot()?,
            venue: self.session.venue.clone(),
        })
    }

    /// The record so far as a backtest result (metrics and all), for
    /// exports and reports.
    pub fn result(&self) -> BacktestResult {
        result(&self.cfg, self.instruments.clone(), self.engine.record())
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Trading days stepped.
    pub fn days_done(&self) -> usize {
        self.days_done
    }

    /// Trading days of the session's calendar.
    pub fn days_total(&self) -> usize {
        self.session.days
    }

    /// The last day stepped.
    pub fn last_day(&self) -> Option<NaiveDate> {
        self.last_day
    }

    /// Whether the run ended.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// The instruments of the run.
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }
}
