//! Integration tests of the engine: a scripted venue's late, partial,
//! duplicate and refused reports, operator controls, and snapshots.

#![allow(clippy::unwrap_used)]

mod harness;
mod live;
mod scripted;
mod venue;
