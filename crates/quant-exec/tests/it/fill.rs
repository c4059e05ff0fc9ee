//! Properties of the fill models (`quant_exec::fill`) on random bars and
//! orders: a fill price lies inside its bar and on the tick grid, a limit
//! is never traded through, slippage only ever goes against the trader and
//! grows with size, a fill quantity never exceeds the leaves, the volume
//! cap or the sellable position and is a valid lot (or the whole sellable
//! position with its odd lot), trailing stops only tighten, and nothing
//! panics on arbitrary numbers.

use proptest::prelude::*;
use quant_core::{
    Instrument, MarketRules, Price, PriceLimit, Quantity, RuleSet, Side, Symbol, Trail,
};
use quant_exec::fill::{
    BarInput, FillConfig, FillModel, FillRequest, LimitFill, LotSide, NoFill, OrderKind,
    Participation, PriceLimitRule, Slippage, TickBar, TrailState, Trigger, fill_on_bar,
    limit_trigger, max_fill_units, slipped_price, stop_trigger, trail_after_bar,
    trailing_stop_trigger, trigger, volume_cap,
};
use rust_decimal::Decimal;

/// (symbol, rule set, price scale in ticks: crypto ticks are 1e-8).
const INSTRUMENTS: [(&str, RuleSet, i64); 5] = [
    ("600000.SH", RuleSet::CnA, 1),
    ("688001.SH", RuleSet::CnA, 1),
    ("510300.SH", RuleSet::CnA, 1),
    ("SPY", RuleSet::Us, 1),
    ("BTC-USDT", RuleSet::Crypto, 100_000),
];

fn instrument(i: usize) -> (Instrument, MarketRules, i64) {
    let (s, set, scale) = INSTRUMENTS[i];
    (
        Instrument::infer(Symbol::new(s).unwrap(), false).unwrap(),
        MarketRules::new(set),
        scale,
    )
}

fn on_grid(p: Price, tick: Decimal) -> bool {
    (p.0 / tick).fract().is_zero()
}

fn price(ticks: i64, tick: Decimal) -> Price {
    Price(Decimal::from(ticks.max(0)) * tick)
}

/// A bar on the tick grid, in ticks: low, high, open, close; volume.
#[derive(Debug, Clone)]
struct GridBar {
    low: i64,
    high: i64,
    open: i64,
    close: i64,
    volume: f64,
    amount: f64,
}

fn grid_bar(scale: i64) -> impl Strategy<Value = GridBar> {
    (
        1i64..200_000,
        0i64..3_000,
        0.0f64..=1.0,
        0.0f64..=1.0,
        prop_oneof![
            1 => Just(0.0),
            3 => 1.0f64..3_000.0,
            5 => 1.0f64..50_000.0,
            5 => 1.0f64..1e7,
        ],
        prop_oneof![Just(None), (0.0f64..=1.0).prop_map(Some)],
    )
        .prop_map(move |(low, span, o, c, volume, vw)| {
            let (low, span) = (low * scale, span * scale);
            let at = |f: f64| low + (f * span as f64).round() as i64;
            GridBar {
                low,
                high: low + span,
                open: at(o),
                close: at(c),
                volume,
                amount: vw.map_or(f64::NAN, |f| volume * at(f) as f64),
            }
        })
}

impl GridBar {
    fn input(&self, tick: Decimal) -> BarInput {
        let f = |t: i64| price(t, tick).to_f64();
        BarInput {
            open: f(self.open),
            high: f(self.high),
            low: f(self.low),
            close: f(self.close),
            volume: self.volume,
            // amount was built in ticks × volume
            amount: self.amount * tick.to_string().parse::<f64>().unwrap(),
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    inst: usize,
    bar: GridBar,
    buy: bool,
    kind: u8,
    /// Order prices in ticks relative to the bar's low (may lie outside).
    a: i64,
    b: i64,
    trail_fraction: Option<u32>,
    leaves: i64,
    sellable: i64,
    participation: Option<f64>,
    slippage: Slippage,
    model: FillModel,
    limit_fill: LimitFill,
    rule: PriceLimitRule,
    /// Previous close relative to the open, in percent (None: no band).
    prev_close: Option<f64>,
}

fn slippage() -> impl Strategy<Value = Slippage> {
    prop_oneof![
        (0.0f64..=1000.0).prop_map(Slippage::Bps),
        (0.0f64..=1000.0, 0.05f64..=2.0)
            .prop_map(|(k_bps, exponent)| Slippage::VolumeShare { k_bps, exponent }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (0usize..INSTRUMENTS.len()).prop_flat_map(|i| {
        let scale = INSTRUMENTS[i].2;
        (
            (
                Just(i),
                grid_bar(scale),
                any::<bool>(),
                0u8..7,
                -100i64..3_100,
                -100i64..3_100,
                prop::option::of(1u32..3000),
            ),
            (
                prop_oneof![0i64..400, 0i64..200_000],
                prop_oneof![0i64..400, 0i64..200_000],
                prop::option::of(0.001f64..=1.0),
                slippage(),
                prop_oneof![
                    Just(FillModel::NextOpen),
                    Just(FillModel::SameClose),
                    Just(FillModel::Vwap)
                ],
                prop_oneof![Just(LimitFill::Touch), Just(LimitFill::Through)],
                prop_oneof![
                    Just(PriceLimitRule::AtLimit),
                    Just(PriceLimitRule::LockedBar)
                ],
                prop::option::of(-25.0f64..25.0),
            ),
        )
            .prop_map(
                move |(
                    (inst, bar, buy, kind, a, b, trail_fraction),
                    (leaves, sellable, participation, slippage, model, limit_fill, rule, pc),
                )| Case {
                    inst,
                    bar,
                    buy,
                    kind,
                    a: a * scale,
                    b: b * scale,
                    trail_fraction,
                    leaves,
                    sellable,
                    participation,
                    slippage,
                    model,
                    limit_fill,
                    rule,
                    prev_close: pc,
                },
            )
    })
}

/// Quantities: whole units, or 1e-4 units for crypto.
fn units(n: i64, inst: &Instrument) -> Quantity {
    if inst.lot_size < Decimal::ONE {
        Quantity(Decimal::new(n, 4))
    } else {
        Quantity::from_units(n)
    }
}

fn kind_of(c: &Case, side: Side, tick: Decimal) -> OrderKind {
    let px = |off: i64| price(c.bar.low + off, tick);
    match c.kind {
        0 => OrderKind::Market,
        1 => OrderKind::MarketOnOpen,
        2 => OrderKind::MarketOnClose,
        3 => OrderKind::Limit(px(c.a)),
        4 => OrderKind::Stop(px(c.a)),
        5 => OrderKind::StopLimit {
            stop: px(c.a),
            limit: px(c.b),
        },
        _ => {
            let trail = match c.trail_fraction {
                Some(bp) => Trail::Fraction(Decimal::new(i64::from(bp), 4)),
                None => Trail::Amount(price((c.b.abs() % 500).max(1), tick)),
            };
            let reference = px(c.a.max(1));
            OrderKind::TrailingStop(TrailState::new(side, trail, reference, tick).unwrap())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn fills_lie_in_the_bar_on_the_grid_and_within_every_bound(c in case()) {
        let (inst, rules, _) = instrument(c.inst);
        let tick = inst.tick_size;
        let side = if c.buy { Side::Buy } else { Side::Sell };
        let kind = kind_of(&c, side, tick);
        let input = c.bar.input(tick);
        let bar = match TickBar::new(&input, tick) {
            Ok(b) => b,
            Err(e) => {
                prop_assert_eq!(c.bar.volume, 0.0);
                prop_assert_eq!(e, NoFill::Suspended);
                return Ok(());
            }
        };
        // the grid bar survives snapping exactly
        prop_assert_eq!(bar.low(), price(c.bar.low, tick));
        prop_assert_eq!(bar.high(), price(c.bar.high, tick));
        prop_assert!(bar.contains(bar.vwap()) && on_grid(bar.vwap(), tick));

        // every trigger's model price is inside the bar and on the grid
        let t = trigger(&kind, side, &bar, c.model, c.limit_fill);
        if let Trigger::Fill(m) = t {
            prop_assert!(bar.contains(m), "{m} outside [{}, {}]", bar.low(), bar.high());
            prop_assert!(on_grid(m, tick));
        }

        let price_limit = match c.prev_close {
            Some(pct) => rules.price_limit(
                &inst,
                "2024-03-01".parse().unwrap(),
                input.open / (1.0 + pct / 100.0),
                None,
            ),
            None => PriceLimit::None,
        };
        let participation = c.participation.map(|p| Participation::new(p).unwrap());
        let config = FillConfig {
            model: c.model,
            limit_fill: c.limit_fill,
            participation,
            slippage: c.slippage,
            price_limits: c.rule,
            ..FillConfig::default()
        };
        let (leaves, sellable) = (units(c.leaves, &inst), units(c.sellable, &inst));
        let req = FillRequest {
            side,
            kind,
            leaves,
            sellable,
            rules: &rules,
            inst: &inst,
            price_limit,
        };
        let Ok(f) = fill_on_bar(&req, &bar, &config) else {
            return Ok(());
        };
        prop_assert_eq!(t, Trigger::Fill(f.model_price));
        // price: inside the bar (as f64 too), on the grid, against the trader
        prop_assert!(bar.contains(f.price));
        prop_assert!(f.price.to_f64() >= input.low - 1e-9 && f.price.to_f64() <= input.high + 1e-9);
        prop_assert!(on_grid(f.price, tick), "{} off the {} grid", f.price, tick);
        match side {
            Side::Buy => prop_assert!(f.price >= f.model_price),
            Side::Sell => prop_assert!(f.price <= f.model_price),
        }
        // never through a limit
        if let Some(l) = kind.limit_price() {
            match side {
                Side::Buy => prop_assert!(f.price <= l, "buy at {} above limit {}", f.price, l),
                Side::Sell => prop_assert!(f.price >= l, "sell at {} below limit {}", f.price, l),
            }
        }
        // no buy at limit-up, no sell at limit-down (the model price)
        if c.rule == PriceLimitRule::AtLimit {
            match side {
                Side::Buy => prop_assert!(!price_limit.blocks_buy(f.model_price.to_f64())),
                Side::Sell => prop_assert!(!price_limit.blocks_sell(f.model_price.to_f64())),
            }
        }
        // quantity: positive, within leaves, cap and sellable, a valid lot
        let q = f.quantity;
        prop_assert!(q > Quantity::ZERO && q <= leaves);
        if let Some(cap) = participation.and_then(|p| volume_cap(input.volume, p)) {
            prop_assert!(q <= cap, "{q} above the cap {cap}");
        }
        let lot_ok = rules.round_buy(&inst, q) == q;
        match side {
            Side::Buy => prop_assert!(lot_ok, "{q} is not a valid buy lot"),
            Side::Sell => {
                prop_assert!(q <= sellable);
                prop_assert!(lot_ok || q == sellable, "{q} neither a lot nor all of {sellable}");
            }
        }
    }

    #[test]
    fn volume_caps_round_down_to_valid_lots(
        i in 0usize..INSTRUMENTS.len(),
        leaves in 0i64..500_000,
        sellable in prop::option::of(0i64..500_000),
        volume in prop_oneof![Just(0.0), 0.0f64..1e7, Just(f64::NAN)],
        p in 0.0001f64..=1.0,
    ) {
        let (inst, rules, _) = instrument(i);
        let p = Participation::new(p).unwrap();
        let leaves = units(leaves, &inst);
        let side = match sellable {
            Some(s) => LotSide::Sell { sellable: units(s, &inst) },
            None => LotSide::Buy,
        };
        let q = max_fill_units(leaves, volume, p, &rules, &inst, side);
        prop_assert!(q <= leaves);
        if let Some(cap) = volume_cap(volume, p) {
            prop_assert!(q <= cap);
        }
        if !q.is_zero() {
            let lot_ok = rules.round_buy(&inst, q) == q;
            match side {
                LotSide::Buy => prop_assert!(lot_ok),
                LotSide::Sell { sellable } => prop_assert!(q <= sellable && (lot_ok || q == sellable)),
            }
        }
    }

    #[test]
    fn slippage_is_monotone_in_size(
        c in case(),
        a in 0i64..1_000_000,
        extra in 0i64..1_000_000,
    ) {
        let (inst, _, _) = instrument(c.inst);
        let tick = inst.tick_size;
        let mut gb = c.bar.clone();
        gb.volume = gb.volume.max(1.0);
        let Ok(bar) = TickBar::new(&gb.input(tick), tick) else {
            return Ok(());
        };
        let (small, large) = (units(a, &inst), units(a + extra, &inst));
        let (bs, bl) = (c.slippage.bps(small, bar.volume()), c.slippage.bps(large, bar.volume()));
        prop_assert!(bs >= 0.0 && bs <= bl, "{bs} > {bl}");
        for side in [Side::Buy, Side::Sell] {
            // the model price is a trigger's, as the venue has it
            let limit = price(c.bar.low + c.a, tick);
            let (model, limit) = match limit_trigger(side, limit, &bar, LimitFill::Touch) {
                Trigger::Fill(m) if c.kind == 3 => (m, Some(limit)),
                _ => (bar.open(), None),
            };
            let (ps, pl) = (
                slipped_price(side, model, bs, &bar, limit),
                slipped_price(side, model, bl, &bar, limit),
            );
            match side {
                Side::Buy => prop_assert!(model <= ps && ps <= pl && pl <= bar.high()),
                Side::Sell => prop_assert!(model >= ps && ps >= pl && pl >= bar.low()),
            }
            if let Some(l) = limit {
                match side {
                    Side::Buy => prop_assert!(pl <= l),
                    Side::Sell => prop_assert!(pl >= l),
                }
            }
            prop_assert!(on_grid(ps, tick) && on_grid(pl, tick));
        }
    }

    #[test]
    fn trailing_stops_only_tighten_and_see_only_closed_bars(
        bars in proptest::collection::vec(grid_bar(1), 1..30),
        buy in any::<bool>(),
        amount in 1i64..300,
        reference in 1i64..200_000,
    ) {
        let tick = Decimal::new(1, 2);
        let side = if buy { Side::Buy } else { Side::Sell };
        let trail = Trail::Amount(price(amount, tick));
        let mut st = TrailState::new(side, trail, price(reference, tick), tick).unwrap();
        for gb in &bars {
            let mut gb = gb.clone();
            gb.volume = gb.volume.max(1.0);
            let bar = TickBar::new(&gb.input(tick), tick).unwrap();
            // the bar is checked against the level from earlier bars only
            prop_assert_eq!(
                trailing_stop_trigger(side, &st, &bar),
                stop_trigger(side, st.level(), &bar)
            );
            let next = trail_after_bar(st, side, &bar);
            match side {
                Side::Sell => {
                    prop_assert!(next.level() >= st.level() && next.best() >= st.best());
                    prop_assert!(next.level() <= next.best());
                }
                Side::Buy => {
                    prop_assert!(next.level() <= st.level() && next.best() <= st.best());
                    prop_assert!(next.level() >= next.best());
                }
            }
            prop_assert!(on_grid(next.level(), tick));
            st = next;
        }
    }

    #[test]
    fn arbitrary_numbers_never_panic(
        o in any::<f64>(), h in any::<f64>(), l in any::<f64>(), cl in any::<f64>(),
        v in any::<f64>(), amt in any::<f64>(), bps in any::<f64>(),
        k in any::<f64>(), e in any::<f64>(), lim in any::<i64>(), n in any::<i64>(),
    ) {
        let tick = Decimal::new(1, 2);
        let input = BarInput { open: o, high: h, low: l, close: cl, volume: v, amount: amt };
        let s = Slippage::VolumeShare { k_bps: k, exponent: e };
        let _ = s.bps(Quantity::from_units(n), v);
        let Ok(bar) = TickBar::new(&input, tick) else {
            return Ok(());
        };
        let lp = Price(Decimal::new(lim.checked_abs().unwrap_or(i64::MAX), 2));
        for side in [Side::Buy, Side::Sell] {
            for kind in [
                OrderKind::Limit(lp),
                OrderKind::Stop(lp),
                OrderKind::StopLimit { stop: lp, limit: lp },
            ] {
                if let Trigger::Fill(m) = trigger(&kind, side, &bar, FillModel::Vwap, LimitFill::Touch) {
                    prop_assert!(bar.contains(m));
                    let p = slipped_price(side, m, bps, &bar, kind.limit_price());
                    prop_assert!(bar.contains(p));
                }
            }
        }
    }
}
