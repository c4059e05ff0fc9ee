//! The saved state of the built-in strategies ([`crate::Strategy::save_state`]).
//!
//! Every built-in saves one CBOR document: an envelope naming the
//! strategy, a fingerprint of its parameters (their `Debug` text) and the
//! number of instruments it was started on, around the strategy's own
//! state struct (serde). CBOR keeps every `f64` bit for bit, NaN and
//! infinities included. Loading checks the envelope against the strategy
//! it is loaded into (built from the same parameters, started on the same
//! instruments) and refuses anything else with [`Error::Config`] naming
//! the strategy. Bytes that do not decode are such errors, never panics;
//! the indicators' windows and counters are checked as they are read
//! (`quant-indicators`), and per-instrument lists against the universe,
//! so a loaded state never indexes outside them.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The envelope as written.
#[derive(Serialize)]
struct Written<'a, S> {
    strategy: &'a str,
    params: &'a str,
    instruments: usize,
    state: &'a S,
}

/// The envelope as read.
#[derive(serde::Deserialize)]
struct Read<S> {
    strategy: String,
    params: String,
    instruments: usize,
    state: S,
}

/// The parameters' fingerprint: their `Debug` text (every parameter
/// type derives `Debug`; floats print exactly, shortest round trip).
pub(crate) fn fingerprint(params: &impl std::fmt::Debug) -> String {
    format!("{params:?}")
}

/// [`Error::Config`] for `strategy` about its saved state.
pub(crate) fn state_error(strategy: &str, message: impl std::fmt::Display) -> Error {
    Error::Config {
        strategy: strategy.to_string(),
        message: format!("saved state: {message}"),
    }
}

/// `state` of `strategy` (parameters' fingerprint `params`, started on
/// `instruments` instruments) as CBOR.
///
/// # Errors
/// [`Error::Config`] when the state cannot be encoded.
pub(crate) fn save<S: Serialize>(
    strategy: &str,
    params: &str,
    instruments: usize,
    state: &S,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ciborium::into_writer(
        &Written {
            strategy,
            params,
            instruments,
            state,
        },
        &mut out,
    )
    .map_err(|e| state_error(strategy, format!("cannot encode: {e}")))?;
    Ok(out)
}

/// The state saved by [`save`] in `bytes`, when it is `strategy`'s with
/// the parameters' fingerprint `params` and `instruments` instruments.
///
/// # Errors
/// [`Error::Config`] naming the strategy when the bytes do not decode, or
/// hold another strategy's state, or one of other parameters or another
/// number of instruments.
pub(crate) fn load<S: DeserializeOwned>(
    strategy: &str,
    params: &str,
    instruments: usize,
    bytes: &[u8],
) -> Result<S> {
    let read: Read<S> = ciborium::from_reader(bytes)
        .map_err(|e| state_error(strategy, format!("does not decode: {e}")))?;
    if read.strategy != strategy {
        return Err(state_error(
            strategy,
            format!("it is the state of strategy `{}`", read.strategy),
        ));
    }
    if read.params != params {
        return Err(state_error(
            strategy,
            "it was saved with other parameters (a restored strategy is built from the same configuration)",
        ));
    }
    if read.instruments != instruments {
        return Err(state_error(
            strategy,
            format!(
                "it was saved on {} instruments, this strategy was started on {instruments}",
                read.instruments
            ),
        ));
    }
    Ok(read.state)
}

/// `Ok` when a decoded per-instrument list `what` holds `n` entries.
///
/// # Errors
/// [`Error::Config`] for `strategy` otherwise.
pub(crate) fn check_len(strategy: &str, what: &str, got: usize, n: usize) -> Result<()> {
    if got == n {
        Ok(())
    } else {
        Err(state_error(
            strategy,
            format!("{got} entries of {what} for {n} instruments"),
        ))
    }
}
