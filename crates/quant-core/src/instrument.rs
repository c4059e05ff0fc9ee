//! Instruments: symbols, exchanges, boards, lot and tick sizes.
//!
//! A-share board and exchange are inferred from the code prefix following the
//! exchanges' allocation (see `shared/docs/protocols/a-share-rules.md` §1):
//! SSE main 600/601/603/605, STAR 688/689, SZSE main 000–003, ChiNext
//! 300/301, BSE 43x/83x/87x/920, funds SSE 50x–58x, SZSE 15x/16x.

use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A ticker as used in data files and configs, e.g. `600519.SH`, `SPY`, `BTC-USDT`.
/// Shared (`Arc<str>`), so orders and fills clone it without allocating.
///
/// Always in its normal form ([`Symbol::new`]): trimmed and upper case, so
/// that `600519.sh` and `600519.SH` are one instrument (one stored series,
/// one position). Symbols become file names in the store, so the character
/// set is closed: ASCII letters and digits and `. - _ ^ = &`, at most
/// [`Symbol::MAX_LEN`] characters, not starting with `.`. Deserialising
/// goes through the same check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol(Arc<str>);

impl TryFrom<String> for Symbol {
    type Error = Error;

    fn try_from(text: String) -> Result<Self> {
        Self::new(text)
    }
}

impl From<Symbol> for String {
    fn from(s: Symbol) -> Self {
        s.0.to_string()
    }
}

impl Symbol {
    /// Longest symbol accepted, in characters.
    pub const MAX_LEN: usize = 32;

    /// Parses a symbol and normalises it: surrounding whitespace trimmed,
    /// ASCII letters upper-cased (`600519.sh` → `600519.SH`, `btc-usdt` →
    /// `BTC-USDT`).
    ///
    /// # Errors
    /// [`Error::InvalidSymbol`] when the text is empty, longer than
    /// [`Symbol::MAX_LEN`], starts with `.`, or holds any character other
    /// than ASCII letters, digits and `. - _ ^ = &` (whitespace, commas,
    /// path separators, control characters, non-ASCII).
    pub fn new(text: impl Into<String>) -> Result<Self> {
        let text: String = text.into();
        let trimmed = text.trim();
        let bad = |reason: &str| Error::InvalidSymbol {
            symbol: trimmed.chars().take(64).collect(),
            reason: reason.into(),
        };
        if trimmed.is_empty() {
            return Err(bad("empty"));
        }
        if trimmed.chars().count() > Self::MAX_LEN {
            return Err(bad(&format!("longer than {} characters", Self::MAX_LEN)));
        }
        if let Some(c) = trimmed
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || ".-_^=&".contains(*c)))
        {
            return Err(bad(&format!(
                "holds {c:?}; allowed are ASCII letters, digits and . - _ ^ = &"
            )));
        }
        if trimmed.starts_with('.') {
            return Err(bad("starts with `.`"));
        }
        Ok(Self(Arc::from(trimmed.to_ascii_uppercase())))
    }

    /// The symbol text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code before the exchange suffix (`600519` for `600519.SH`).
    pub fn code(&self) -> &str {
        self.0.split('.').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Dense index of an instrument inside one engine run (0..n). Hot-loop state
/// is held in arrays indexed by it rather than in maps keyed by symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstrumentIndex(pub u32);

impl InstrumentIndex {
    /// The index as a `usize`, for slice indexing.
    #[inline]
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// Exchange or venue family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exchange {
    /// Shanghai Stock Exchange (`.SH`).
    Sse,
    /// Shenzhen Stock Exchange (`.SZ`).
    Szse,
    /// Beijing Stock Exchange (`.BJ`).
    Bse,
    /// A US exchange (NYSE, NASDAQ, …).
    Us,
    /// A crypto exchange (Binance spot).
    Crypto,
}

impl Exchange {
    /// The exchange's time zone: Asia/Shanghai for SSE/SZSE/BSE,
    /// America/New_York for US exchanges, UTC for crypto (Binance daily bars
    /// open at 00:00 UTC). Daily bar dates are trading days in this zone.
    pub fn timezone(self) -> chrono_tz::Tz {
        match self {
            Self::Sse | Self::Szse | Self::Bse => chrono_tz::Asia::Shanghai,
            Self::Us => chrono_tz::America::New_York,
            Self::Crypto => chrono_tz::UTC,
        }
    }

    /// Local time of the session close at which daily strategies decide:
    /// 15:00 for A-shares (after the closing call auction), 16:00 for US
    /// equities, 23:59:59 for crypto (the daily bar's last second, UTC).
    pub fn session_close(self) -> chrono::NaiveTime {
        let t =
            |h, m, s| chrono::NaiveTime::from_hms_opt(h, m, s).unwrap_or(chrono::NaiveTime::MIN);
        match self {
            Self::Sse | Self::Szse | Self::Bse => t(15, 0, 0),
            Self::Us => t(16, 0, 0),
            Self::Crypto => t(23, 59, 59),
        }
    }

    /// The instant a trading day's session closes, in UTC.
    pub fn close_instant(self, day: chrono::NaiveDate) -> Option<chrono::DateTime<chrono::Utc>> {
        use chrono::TimeZone;
        self.timezone()
            .from_local_datetime(&day.and_time(self.session_close()))
            .single()
            .map(|t| t.with_timezone(&chrono::Utc))
    }
}

/// Listing board; decides price limits and lot rules for A-shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Board {
    /// SSE/SZSE main board (including the former SME board).
    Main,
    /// ChiNext (创业板), SZSE 300/301.
    ChiNext,
    /// STAR Market (科创板), SSE 688/689.
    Star,
    /// Beijing Stock Exchange.
    Bse,
    /// Not an A-share board (US, crypto).
    Other,
}

impl Board {
    /// Parses a board name: English (`main`, `chinext`, `star`, `bse`) or
    /// the Chinese names used in `instruments.csv` (主板, 创业板, 科创板, 北交所, 中小板).
    ///
    /// # Errors
    /// [`Error::UnknownName`] for anything else.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name.trim() {
            "main" | "Main" | "主板" | "中小板" => Self::Main,
            "chinext" | "ChiNext" | "创业板" => Self::ChiNext,
            "star" | "STAR" | "科创板" => Self::Star,
            "bse" | "BSE" | "北交所" => Self::Bse,
            "other" => Self::Other,
            other => {
                return Err(Error::UnknownName {
                    what: "board",
                    name: other.to_string(),
                    expected: "main, chinext, star, bse, other, 主板, 中小板, 创业板, 科创板, 北交所",
                });
            }
        })
    }
}

/// What kind of security the instrument is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetClass {
    /// A common stock.
    Stock,
    /// An exchange-traded fund (A-share funds: no stamp duty or transfer fee).
    Etf,
    /// An index (benchmark only; never traded).
    Index,
    /// A crypto spot pair.
    Crypto,
}

/// Settlement currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    /// Chinese yuan.
    CNY,
    /// US dollar.
    USD,
    /// Tether (crypto quote currency).
    USDT,
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CNY => "CNY",
            Self::USD => "USD",
            Self::USDT => "USDT",
        })
    }
}

/// A tradable (or benchmark) instrument with the static facts that market
/// rules need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    /// Ticker, e.g. `600519.SH`.
    pub symbol: Symbol,
    /// Exchange family.
    pub exchange: Exchange,
    /// Listing board (A-shares), [`Board::Other`] elsewhere.
    pub board: Board,
    /// Stock, ETF, index or crypto.
    pub asset_class: AssetClass,
    /// Risk-warning (ST / *ST) flag: tighter price limits on the main board.
    pub st: bool,
    /// Board lot in units (shares or coins): buys are multiples of it.
    /// 100 for A-shares; 200 is the STAR *minimum* (then 1-share steps).
    pub lot_size: Decimal,
    /// Minimum price increment in the quote currency (0.01 CNY stocks, 0.001 CNY funds).
    pub tick_size: Decimal,
    /// Quote and settlement currency.
    pub currency: Currency,
    /// Listing date when known (decides IPO price-limit exemptions).
    pub list_date: Option<chrono::NaiveDate>,
}

impl Instrument {
    /// Builds an instrument from a symbol, inferring exchange, board, asset
    /// class, lot, tick and currency:
    /// - `NNNNNN.SH` / `.SZ` / `.BJ`: A-share stock, fund or index by code prefix;
    /// - `XXX-USDT` (or `-USD`, `-BTC`): crypto spot pair, lot 1e-8;
    /// - anything else: US equity, lot 1, tick 0.01 USD.
    ///
    /// `is_index` marks a symbol read from an index folder (an index code such
    /// as `000300.SH` collides with SZSE stock codes, so the caller must say).
    ///
    /// # Errors
    /// [`Error::InvalidSymbol`] for an A-share suffix with a non-numeric code.
    pub fn infer(symbol: Symbol, is_index: bool) -> Result<Self> {
        let text = symbol.as_str();
        let (code, suffix) = match text.rsplit_once('.') {
            Some((c, s)) => (c, s),
            None => (text, ""),
        };
        let cn_exchange = match suffix {
            "SH" => Some(Exchange::Sse),
            "SZ" => Some(Exchange::Szse),
            "BJ" => Some(Exchange::Bse),
            _ => None,
        };
        if let Some(exchange) = cn_exchange {
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::InvalidSymbol {
                    symbol: text.to_string(),
                    reason: "A-share codes are six digits".into(),
                });
            }
            let p3 = &code[..3];
            let p2 = &code[..2];
            let (asset_class, board) = if is_index {
                (AssetClass::Index, Board::Main)
            } else {
                match exchange {
                    Exchange::Sse if p3 == "688" || p3 == "689" => (AssetClass::Stock, Board::Star),
                    Exchange::Sse if matches!(p2, "50" | "51" | "52" | "56" | "58") => {
                        (AssetClass::Etf, Board::Main)
                    }
                    Exchange::Szse if p3 == "300" || p3 == "301" => {
                        (AssetClass::Stock, Board::ChiNext)
                    }
                    Exchange::Szse if p2 == "15" || p2 == "16" => (AssetClass::Etf, Board::Main),
                    Exchange::Bse => (AssetClass::Stock, Board::Bse),
                    _ => (AssetClass::Stock, Board::Main),
                }
            };
            let tick = if asset_class == AssetClass::Etf {
                Decimal::new(1, 3)
            } else {
                Decimal::new(1, 2)
            };
            return Ok(Self {
                symbol,
                exchange,
                board,
                asset_class,
                st: false,
                lot_size: Decimal::from(100),
                tick_size: tick,
                currency: Currency::CNY,
                list_date: None,
            });
        }
        if let Some((_, quote)) = text.rsplit_once('-') {
            let currency = if quote == "USD" {
                Currency::USD
            } else {
                Currency::USDT
            };
            return Ok(Self {
                symbol,
                exchange: Exchange::Crypto,
                board: Board::Other,
                asset_class: if is_index {
                    AssetClass::Index
                } else {
                    AssetClass::Crypto
                },
                st: false,
                lot_size: Decimal::new(1, 8),
                tick_size: Decimal::new(1, 8),
                currency,
                list_date: None,
            });
        }
        Ok(Self {
            symbol,
            exchange: Exchange::Us,
            board: Board::Other,
            asset_class: if is_index {
                AssetClass::Index
            } else {
                AssetClass::Stock
            },
            st: false,
            lot_size: Decimal::ONE,
            tick_size: Decimal::new(1, 2),
            currency: Currency::USD,
            list_date: None,
        })
    }

    /// True for A-share stocks and funds (SSE, SZSE, BSE).
    pub fn is_cn(&self) -> bool {
        matches!(
            self.exchange,
            Exchange::Sse | Exchange::Szse | Exchange::Bse
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(s: &str) -> Instrument {
        Instrument::infer(Symbol::new(s).unwrap(), false).unwrap()
    }

    #[test]
    fn boards_from_code_prefix() {
        assert_eq!(inst("600519.SH").board, Board::Main);
        assert_eq!(inst("688981.SH").board, Board::Star);
        assert_eq!(inst("300750.SZ").board, Board::ChiNext);
        assert_eq!(inst("000001.SZ").board, Board::Main);
        assert_eq!(inst("830799.BJ").board, Board::Bse);
        assert_eq!(inst("510300.SH").asset_class, AssetClass::Etf);
        assert_eq!(inst("510300.SH").tick_size, Decimal::new(1, 3));
        assert_eq!(inst("159915.SZ").asset_class, AssetClass::Etf);
        assert_eq!(inst("SPY").exchange, Exchange::Us);
        assert_eq!(inst("BTC-USDT").asset_class, AssetClass::Crypto);
        assert_eq!(inst("BTC-USDT").currency, Currency::USDT);
    }

    #[test]
    fn session_close_in_utc() {
        let d = chrono::NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        assert_eq!(
            Exchange::Sse.close_instant(d).unwrap().to_rfc3339(),
            "2024-03-01T07:00:00+00:00"
        );
        assert_eq!(
            Exchange::Us.close_instant(d).unwrap().to_rfc3339(),
            "2024-03-01T21:00:00+00:00"
        );
        let summer = chrono::NaiveDate::from_ymd_opt(2024, 7, 1).unwrap();
        assert_eq!(
            Exchange::Us.close_instant(summer).unwrap().to_rfc3339(),
            "2024-07-01T20:00:00+00:00"
        );
    }

    #[test]
    fn symbols_are_normalised() {
        for (raw, want) in [
            ("600519.sh", "600519.SH"),
            (" 600519.SH\n", "600519.SH"),
            ("btc-usdt", "BTC-USDT"),
            ("^gspc", "^GSPC"),
            ("brk-b", "BRK-B"),
        ] {
            assert_eq!(Symbol::new(raw).unwrap().as_str(), want);
        }
        let s: Symbol = serde_json::from_str("\"600519.sh\"").unwrap();
        assert_eq!(s.as_str(), "600519.SH");
        assert!(serde_json::from_str::<Symbol>("\"../x\"").is_err());
    }

    #[test]
    fn bad_symbols_are_errors() {
        assert!(Symbol::new("").is_err());
        assert!(Symbol::new("60 0519").is_err());
        for bad in [
            "../etc",
            "a/b",
            "a\\b",
            ".hidden",
            "x\0y",
            "６００５１９.SH",
            "a,b",
        ] {
            assert!(Symbol::new(bad).is_err(), "{bad:?}");
        }
        assert!(Symbol::new("A".repeat(33)).is_err());
        assert!(Instrument::infer(Symbol::new("60051.SH").unwrap(), false).is_err());
        assert!(Board::parse("moon").is_err());
        assert_eq!(Board::parse("创业板").unwrap(), Board::ChiNext);
    }
}
