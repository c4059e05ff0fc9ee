//! A primary provider and its backups, tried in order.
//!
//! Any error of one provider (outage, throttling that outlasted its retries,
//! open circuit, unknown symbol, unsupported data) moves on to the next;
//! the result says which provider served and why the earlier ones did not.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::NaiveDate;
use quant_core::Bar;

use crate::error::{Error, Result};
use crate::{AdjFactor, BarRequest, CalendarDay, DailyBasic, DataProvider, ListedInstrument};

/// Data and the provider that served it.
#[derive(Debug, Clone, PartialEq)]
pub struct Served<T> {
    /// Name of the provider that answered.
    pub provider: String,
    /// What it answered.
    pub data: T,
    /// Providers tried before it, with their errors, in order.
    pub failed: Vec<(String, String)>,
}

type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Providers in order of preference.
#[derive(Clone)]
pub struct Failover {
    providers: Vec<Arc<dyn DataProvider>>,
    /// Configured providers that could not be built (a missing token),
    /// with the reason; reported as failed on every call.
    unavailable: Vec<(String, String)>,
}

impl std::fmt::Debug for Failover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.providers.iter().map(|p| p.name()))
            .finish()
    }
}

impl Failover {
    /// The chain `providers[0]` (primary), then the rest.
    pub fn new(providers: Vec<Arc<dyn DataProvider>>) -> Self {
        Self {
            providers,
            unavailable: Vec::new(),
        }
    }

    /// Records configured providers that could not be built (name,
    /// reason); every result lists them first among the failed.
    pub fn with_unavailable(mut self, unavailable: Vec<(String, String)>) -> Self {
        self.unavailable = unavailable;
        self
    }

    /// The same chain without the provider named `name` (for a second
    /// opinion on what it served).
    pub fn without(&self, name: &str) -> Self {
        Self {
            providers: self
                .providers
                .iter()
                .filter(|p| p.name() != name)
                .cloned()
                .collect(),
            unavailable: Vec::new(),
        }
    }

    /// Provider names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.providers.iter().map(|p| p.name()).collect()
    }

    async fn first<'a, T>(
        &'a self,
        f: impl Fn(&'a dyn DataProvider) -> Fut<'a, T>,
    ) -> Result<Served<T>> {
        let mut failed = self.unavailable.clone();
        for p in &self.providers {
            match f(p.as_ref()).await {
                Ok(data) => {
                    if !failed.is_empty() {
                        tracing::warn!(provider = p.name(), ?failed, "served by a backup");
                    }
                    return Ok(Served {
                        provider: p.name().to_string(),
                        data,
                        failed,
                    });
                }
                Err(e) => failed.push((p.name().to_string(), e.to_string())),
            }
        }
        Err(Error::AllFailed(failed))
    }

    /// [`DataProvider::daily_bars`] from the first provider that answers.
    ///
    /// # Errors
    /// [`Error::AllFailed`] listing every provider's error.
    pub async fn daily_bars(&self, req: &BarRequest) -> Result<Served<Vec<Bar>>> {
        self.first(|p| p.daily_bars(req)).await
    }

    /// [`DataProvider::index_daily`] from the first provider that answers.
    ///
    /// # Errors
    /// [`Error::AllFailed`] listing every provider's error.
    pub async fn index_daily(&self, req: &BarRequest) -> Result<Served<Vec<Bar>>> {
        self.first(|p| p.index_daily(req)).await
    }

    /// [`DataProvider::adj_factors`] from the first provider that answers.
    ///
    /// # Errors
    /// [`Error::AllFailed`] listing every provider's error.
    pub async fn adj_factors(&self, req: &BarRequest) -> Result<Served<Vec<AdjFactor>>> {
        self.first(|p| p.adj_factors(req)).await
    }

    /// [`DataProvider::daily_basic`] from the first provider that answers.
    ///
    /// # Errors
    /// [`Error::AllFailed`] listing every provider's error.
    pub async fn daily_basic(&self, req: &BarRequest) -> Result<Served<Vec<DailyBasic>>> {
        self.first(|p| p.daily_basic(req)).await
    }

    /// [`DataProvider::trading_calendar`] from the first provider that
    /// answers.
    ///
    /// # Errors
    /// [`Error::AllFailed`] listing every provider's error.
    pub async fn trading_calendar(
        &self,
        exchange: &str,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Served<Vec<CalendarDay>>> {
        self.first(|p| p.trading_calendar(exchange, start, end))
            .await
    }

    /// [`DataProvider::stock_list`] from the first provider that answers.
    ///
    /// # Errors
    /// [`Error::AllFailed`] listing every provider's error.
    pub async fn stock_list(&self) -> Result<Served<Vec<ListedInstrument>>> {
        self.first(|p| p.stock_list()).await
    }
}
