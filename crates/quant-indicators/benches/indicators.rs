//! Batch indicators over 10 million points (the benchmark), next to
//! TA-Lib's C speed measured on the same machine (docs/PERFORMANCE.md).
//!
//! `cargo bench -p quant-indicators --bench indicators`; set `IND_POINTS`
//! for another size. Three groups: each iteration allocating its output
//! (as TA-Lib's Python wrapper does); into buffers allocated once (`Vec`,
//! 4 KiB pages); and into buffers allocated once in anonymous maps advised
//! for transparent huge pages (as numpy allocates TA-Lib's buffers).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quant_indicators::{momentum, overlap, volatility};

/// A random walk with high/low around the close (xorshift, fixed seed).
fn market(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let (mut h, mut l, mut c) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut p = 100.0f64;
    for _ in 0..n {
        p *= 1.0 + 0.02 * next();
        c.push(p);
        h.push(p * (1.0 + 0.01 * next().abs()));
        l.push(p * (1.0 - 0.01 * next().abs()));
    }
    (h, l, c)
}

fn bench(cr: &mut Criterion) {
    let n: usize = std::env::var("IND_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let (h, l, c) = market(n);
    let mut g = cr.benchmark_group("indicators_10m");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    g.warm_up_time(Duration::from_secs(1));
    g.bench_function("SMA(20)", |b| b.iter(|| overlap::sma(black_box(&c), 20)));
    g.bench_function("EMA(20)", |b| b.iter(|| overlap::ema(black_box(&c), 20)));
    g.bench_function("RSI(14)", |b| b.iter(|| momentum::rsi(black_box(&c), 14)));
    g.bench_function("ATR(14)", |b| {
        b.iter(|| volatility::atr(black_box(&h), black_box(&l), black_box(&c), 14))
    });
    g.bench_function("MACD(12,26,9)", |b| {
        b.iter(|| momentum::macd(black_box(&c), 12, 26, 9))
    });
    g.bench_function("BBANDS(20,2,2)", |b| {
        b.iter(|| overlap::bbands(black_box(&c), 20, 2.0, 2.0, overlap::MaType::Sma))
    });
    g.finish();

    // the same into buffers allocated once: the computation alone, as
    // TA-Lib's C functions are timed (docs/PERFORMANCE.md)
    let mut g = cr.benchmark_group("indicators_10m_into");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_secs(1));
    let mut out = vec![0.0; n];
    let three = || (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (a, b, d) = three();
    let mut m = momentum::MacdSeries {
        macd: a,
        signal: b,
        hist: d,
    };
    let (a, b, d) = three();
    let mut bb = overlap::BbandsSeries {
        upper: a,
        middle: b,
        lower: d,
    };
    g.bench_function("SMA(20)", |b| {
        b.iter(|| overlap::sma_into(black_box(&c), 20, &mut out))
    });
    g.bench_function("EMA(20)", |b| {
        b.iter(|| overlap::ema_into(black_box(&c), 20, &mut out))
    });
    g.bench_function("RSI(14)", |b| {
        b.iter(|| momentum::rsi_into(black_box(&c), 14, &mut out))
    });
    g.bench_function("ATR(14)", |b| {
        b.iter(|| volatility::atr_into(black_box(&h), black_box(&l), black_box(&c), 14, &mut out))
    });
    g.bench_function("MACD(12,26,9)", |b| {
        b.iter(|| momentum::macd_into(black_box(&c), 12, 26, 9, &mut m))
    });
    g.bench_function("BBANDS(20,2,2)", |b| {
        b.iter(|| overlap::bbands_into(black_box(&c), 20, 2.0, 2.0, overlap::MaType::Sma, &mut bb))
    });
    g.finish();
}

/// A copy of `src` in an anonymous map advised for transparent huge pages
/// (Linux; elsewhere plain pages).
fn huge(src: &[f64]) -> memmap2::MmapMut {
    let mut m = memmap2::MmapMut::map_anon(std::mem::size_of_val(src)).expect("anonymous map");
    #[cfg(target_os = "linux")]
    let _ = m.advise(memmap2::Advice::HugePage);
    bytemuck::cast_slice_mut::<u8, f64>(&mut m[..]).copy_from_slice(src);
    m
}

fn f64s(m: &memmap2::MmapMut) -> &[f64] {
    bytemuck::cast_slice(&m[..])
}

fn bench_huge(cr: &mut Criterion) {
    let n: usize = std::env::var("IND_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let (h, l, c) = market(n);
    let (h, l, c) = (huge(&h), huge(&l), huge(&c));
    let mut out = huge(&vec![0.0; n]);
    let mut g = cr.benchmark_group("indicators_10m_into_hugepages");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_secs(1));
    let (hs, ls, cs) = (f64s(&h), f64s(&l), f64s(&c));
    g.bench_function("SMA(20)", |b| {
        b.iter(|| overlap::sma_into(black_box(cs), 20, bytemuck::cast_slice_mut(&mut out[..])))
    });
    g.bench_function("EMA(20)", |b| {
        b.iter(|| overlap::ema_into(black_box(cs), 20, bytemuck::cast_slice_mut(&mut out[..])))
    });
    g.bench_function("RSI(14)", |b| {
        b.iter(|| momentum::rsi_into(black_box(cs), 14, bytemuck::cast_slice_mut(&mut out[..])))
    });
    g.bench_function("ATR(14)", |b| {
        b.iter(|| {
            volatility::atr_into(
                black_box(hs),
                black_box(ls),
                black_box(cs),
                14,
                bytemuck::cast_slice_mut(&mut out[..]),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench, bench_huge);
criterion_main!(benches);
