//! Reference data beside the bars: adjustment factors, daily valuation
//! figures, exchange calendars and instrument lists. Providers fetch them
//! (`quant-providers`), the SQL catalog stores them (`quant-catalog`); the
//! types live here so both speak the same ones.

use chrono::NaiveDate;

/// One cumulative adjustment factor (TuShare `adj_factor`): backward
/// (后复权) price = raw price × factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdjFactor {
    /// Trading day.
    pub date: NaiveDate,
    /// Cumulative factor (dimensionless, > 0).
    pub factor: f64,
}

/// Daily valuation and turnover figures (TuShare `daily_basic`), in base
/// units: shares and CNY (TuShare's 万股 and 万元 are converted), ratios as
/// the source gives them. `None` where the source has no value (PE of a
/// loss-maker).
#[derive(Debug, Clone, PartialEq)]
pub struct DailyBasic {
    /// Symbol, `600519.SH`.
    pub symbol: String,
    /// Trading day.
    pub date: NaiveDate,
    /// Close, CNY.
    pub close: Option<f64>,
    /// Turnover rate, percent.
    pub turnover_rate: Option<f64>,
    /// Price/earnings.
    pub pe: Option<f64>,
    /// Price/earnings, trailing twelve months.
    pub pe_ttm: Option<f64>,
    /// Price/book.
    pub pb: Option<f64>,
    /// Dividend yield, trailing twelve months, percent.
    pub dv_ttm: Option<f64>,
    /// Total shares.
    pub total_share: Option<f64>,
    /// Floating shares.
    pub float_share: Option<f64>,
    /// Total market value, CNY.
    pub total_mv: Option<f64>,
    /// Floating market value, CNY.
    pub circ_mv: Option<f64>,
}

/// One calendar day of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarDay {
    /// The day.
    pub date: NaiveDate,
    /// Whether the exchange trades that day.
    pub is_open: bool,
}

/// Listing status of an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStatus {
    /// Listed and trading.
    Listed,
    /// Delisted (kept to avoid survivorship bias).
    Delisted,
    /// Listing paused.
    Paused,
}

impl ListStatus {
    /// The status's name in the catalog and reports: `L`, `D`, `P`
    /// (TuShare's `list_status` codes).
    pub fn code(self) -> &'static str {
        match self {
            Self::Listed => "L",
            Self::Delisted => "D",
            Self::Paused => "P",
        }
    }

    /// The status of a code written by [`ListStatus::code`]; `None` for
    /// any other text.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "L" => Some(Self::Listed),
            "D" => Some(Self::Delisted),
            "P" => Some(Self::Paused),
            _ => None,
        }
    }
}

/// One row of a provider's instrument list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedInstrument {
    /// Symbol, `600519.SH`.
    pub symbol: String,
    /// Name (`ST`/`*ST` prefixes mark risk-warning stocks).
    pub name: String,
    /// Exchange code as the source gives it (`SSE`, `SZSE`, `BSE`).
    pub exchange: String,
    /// Board as the source gives it (主板, 创业板, 科创板, 北交所…); empty when
    /// unknown.
    pub market: String,
    /// Industry; empty when unknown.
    pub industry: String,
    /// Listing date.
    pub list_date: Option<NaiveDate>,
    /// Delisting date.
    pub delist_date: Option<NaiveDate>,
    /// Status.
    pub status: ListStatus,
}
