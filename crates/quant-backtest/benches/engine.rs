//! Criterion benchmark of the event loop: `sma_cross` over a synthetic
//! market (200 instruments × 1000 days = 200,000 bar-events per iteration),
//! next-open fills under the A-share rules.

#![allow(clippy::unwrap_used)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use quant_backtest::feed::{HistoricalClock, HistoricalFeed, SignalPrices};
use quant_backtest::synthetic::synthetic_market;
use quant_core::Cash;
use quant_engine::{CorporateActions, EngineConfig, run_strategy};
use quant_exec::{SimConfig, SimulatedVenue};
use rust_decimal::Decimal;

fn engine(c: &mut Criterion) {
    let (n_sym, n_days) = (200, 1000);
    let (instruments, series, cal) = synthetic_market(n_sym, n_days, 7);
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements((n_sym * n_days) as u64));
    group.sample_size(20);
    group.bench_function("sma_cross_200x1000", |b| {
        b.iter_batched(
            || {
                HistoricalFeed::new(
                    instruments.clone(),
                    series.clone(),
                    None,
                    SignalPrices::Raw,
                    &cal,
                )
            },
            |mut feed| {
                let mut clock = HistoricalClock::new(&cal);
                let mut venue = SimulatedVenue::new(SimConfig::default());
                let strategy = quant_strategy::build("sma_cross", toml::Table::new()).unwrap();
                let config = EngineConfig {
                    initial_cash: Cash(Decimal::from(100_000_000)),
                    corporate_actions: CorporateActions::None,
                    size_at: Default::default(),
                    risk: None,
                    ..Default::default()
                };
                run_strategy(config, &mut clock, &mut feed, &mut venue, strategy, |_| {}).unwrap()
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
