//! Execution algorithms against a real order book: a TWAP through the
//! simulated venue with its volume cap (partial fills, rests carried), and
//! properties over random sizes, lot rules (A-share 100, STAR 200 then 1,
//! crypto 1e-8), slice counts, clips and fill patterns: the children never
//! exceed the parent, are valid lots (a sell's last child may carry the
//! odd lot), an iceberg never shows more than its clip, and the parent's
//! filled quantity is the sum of the children's fills — in the algorithm
//! and in the book.

use chrono::NaiveDate;
use proptest::prelude::*;
use quant_core::{
    Bar, Cash, Fill, Instrument, InstrumentIndex, MarketRules, Order, OrderId, OrderQty,
    OrderStatus, OrderType, Price, Quantity, RuleSet, Side, Symbol, TimeInForce,
};
use quant_exec::algo::{Algo, AlgoAction, AlgoSpec, Algos, AtEnd, Iceberg, Twap};
use quant_exec::fill::Participation;
use quant_exec::oms::{Action, Oms, Outcome, Report};
use quant_exec::{MarketState, Phase, Portfolio, SimConfig, SimulatedVenue, Venue, VenueEvent};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn day(k: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 1).unwrap() + chrono::Days::new(u64::from(k))
}

fn instrument(symbol: &str) -> (Instrument, MarketRules) {
    let inst = Instrument::infer(Symbol::new(symbol).unwrap(), false).unwrap();
    let rules = MarketRules::new(RuleSet::for_instrument(&inst));
    (inst, rules)
}

fn parent_order(inst: &Instrument, side: Side, ty: OrderType, units: Quantity) -> Order {
    Order::new(
        OrderId(0),
        InstrumentIndex(0),
        inst.symbol.clone(),
        side,
        ty,
        OrderQty::Units(units),
        day(0),
    )
    .with_tif(TimeInForce::Gtc)
}

/// A TWAP of 3,000 shares in 4 slices over days 0..4 at a simulated venue
/// that fills at most 10 % of a bar's 5,000 shares per order: each DAY
/// slice fills 500 and its rest expires, carried into the next slice; at
/// the window's end the final market order is capped too, and the parent
/// expires with what never filled. Fills are booked once (as the
/// children's), and the parent's record sums them.
#[test]
fn twap_through_the_simulated_venue_carries_capped_slices() {
    let (inst, rules) = instrument("600000.SH");
    let mut oms = Oms::new(Some("twap")).unwrap();
    let pid = oms
        .create(
            parent_order(
                &inst,
                Side::Buy,
                OrderType::Market,
                Quantity::from_units(3000),
            ),
            day(0),
        )
        .unwrap();
    let spec = AlgoSpec::Twap(Twap {
        start: 0,
        end: 4,
        slices: 4,
        at_end: AtEnd::Market,
        participation: None,
        child_tif: TimeInForce::Day,
    });
    let algo = Algo::new(oms.get(pid).unwrap(), spec, &rules, &inst).unwrap();
    let mut venue = SimulatedVenue::new(SimConfig {
        participation: Some(Participation::new(0.1).unwrap()),
        ..SimConfig::default()
    });
    let portfolio = Portfolio::new(Cash(dec!(10_000_000)), 1);
    let mut algos = Algos::new();
    let mut booked: Vec<Fill> = Vec::new();
    let mut sizes = Vec::new();

    /// Applies the algorithms' actions: children to the venue, parent
    /// reports and mirrored fills to the book.
    #[allow(clippy::too_many_arguments)]
    fn act(
        actions: Vec<AlgoAction>,
        d: NaiveDate,
        oms: &mut Oms,
        algos: &mut Algos,
        venue: &mut SimulatedVenue,
        booked: &mut Vec<Fill>,
        sizes: &mut Vec<Decimal>,
    ) {
        for a in actions {
            match a {
                AlgoAction::Submit(id) => {
                    let o = oms.get(id).unwrap().clone();
                    if let OrderQty::Units(u) = o.requested {
                        sizes.push(u.0);
                    }
                    let mut ev = Vec::new();
                    venue.submit(&o, &mut ev);
                    reports(ev, d, oms, algos, venue, booked, sizes);
                }
                AlgoAction::Cancel(id) => {
                    oms.request_cancel(id, d).unwrap();
                    let mut ev = Vec::new();
                    venue.cancel(id, &mut ev);
                    reports(ev, d, oms, algos, venue, booked, sizes);
                }
                AlgoAction::Parent(r) => {
                    oms.apply(r, d).unwrap();
                }
                AlgoAction::ParentFill(f) => {
                    assert!(oms.apply_parent_fill(f, d).unwrap().is_empty());
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn reports(
        ev: Vec<VenueEvent>,
        d: NaiveDate,
        oms: &mut Oms,
        algos: &mut Algos,
        venue: &mut SimulatedVenue,
        booked: &mut Vec<Fill>,
        sizes: &mut Vec<Decimal>,
    ) {
        for e in ev {
            let r = Report::from(e);
            if let Outcome::Applied(actions) = oms.apply(r.clone(), d).unwrap() {
                for a in actions {
                    if let Action::Book(f) = a {
                        booked.push(f);
                    }
                }
                let a = algos.on_report(&r, d, &mut |o| oms.create(o, d)).unwrap();
                act(a, d, oms, algos, venue, booked, sizes);
            }
        }
    }

    let a = algos
        .start(algo, 0, Some(5_000.0), day(0), &mut |o| {
            oms.create(o, day(0))
        })
        .unwrap();
    act(
        a,
        day(0),
        &mut oms,
        &mut algos,
        &mut venue,
        &mut booked,
        &mut sizes,
    );
    for k in 1..=6u32 {
        let d = day(k);
        let bars = [Some(Bar {
            date: d,
            open: 10.0,
            high: 10.2,
            low: 9.9,
            close: 10.1,
            pre_close: f64::NAN,
            volume: 5_000.0,
            amount: f64::NAN,
            adj_factor: 1.0,
        })];
        let instruments = [inst.clone()];
        let market = MarketState {
            date: d,
            instruments: &instruments,
            bars: &bars,
            prev_close: &[f64::NAN],
            listing_day: &[None],
            bar_time: None,
        };
        let mut ev = Vec::new();
        venue.on_phase(Phase::Open, &market, &portfolio, &mut ev);
        reports(
            ev,
            d,
            &mut oms,
            &mut algos,
            &mut venue,
            &mut booked,
            &mut sizes,
        );
        let a = algos
            .on_bars(u64::from(k), d, &bars, &mut |o| oms.create(o, d))
            .unwrap();
        act(
            a,
            d,
            &mut oms,
            &mut algos,
            &mut venue,
            &mut booked,
            &mut sizes,
        );
        let mut ev = Vec::new();
        venue.on_phase(Phase::Close, &market, &portfolio, &mut ev);
        reports(
            ev,
            d,
            &mut oms,
            &mut algos,
            &mut venue,
            &mut booked,
            &mut sizes,
        );
    }
    // 700 planned a slice; 500 fill each day, the rest carries
    let want: Vec<Decimal> = [700, 900, 1100, 1500, 1000]
        .into_iter()
        .map(Decimal::from)
        .collect();
    assert_eq!(sizes, want);
    assert!(algos.is_empty(), "finished");
    assert_eq!(booked.len(), 5);
    assert!(
        booked
            .iter()
            .all(|f| f.order_id != pid && f.quantity.0 == dec!(500))
    );
    let p = oms.get(pid).unwrap();
    assert_eq!(p.status, OrderStatus::Expired);
    assert_eq!(p.filled, Quantity::from_units(2500));
    let children: Decimal = oms
        .orders()
        .iter()
        .filter(|o| o.id != pid)
        .map(|o| o.filled.0)
        .sum();
    assert_eq!(children, dec!(2500));
    assert_eq!(venue.open_orders(), 0);
}

/// A fake venue's answer to one working child on one bar.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Nothing,
    /// Fill half the leaves (rounded down to lots), keep the rest working.
    Half,
    /// Fill half, expire the rest.
    HalfThenExpire,
    /// Fill all.
    All,
    /// Expire (or reject, before any fill).
    End,
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        3 => Just(Answer::Nothing),
        3 => Just(Answer::Half),
        1 => Just(Answer::HalfThenExpire),
        4 => Just(Answer::All),
        1 => Just(Answer::End),
    ]
}

/// Lot rules and sizes: (symbol, lot step in units, smallest buy).
const BOOKS: [(&str, Decimal, Decimal); 4] = [
    ("600000.SH", dec!(100), dec!(100)),
    ("688001.SH", dec!(1), dec!(200)),
    ("SPY", dec!(1), dec!(1)),
    ("BTC-USDT", dec!(0.00000001), dec!(0.00000001)),
];

#[derive(Debug, Clone)]
struct Case {
    book: usize,
    side: Side,
    /// Parent size in lot steps (buys: at least the smallest buy).
    steps: i64,
    spec: AlgoSpec,
    answers: Vec<Answer>,
    /// Bar at which the parent is cancelled.
    cancel_at: Option<u64>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0usize..BOOKS.len(),
        prop_oneof![Just(Side::Buy), Just(Side::Sell)],
        1i64..5_000,
        prop_oneof![
            (
                0u64..3,
                1u64..25,
                1u32..12,
                prop_oneof![Just(AtEnd::Market), Just(AtEnd::Expire)],
                proptest::option::of(0.05f64..1.0),
            )
                .prop_map(|(start, len, slices, at_end, part)| {
                    AlgoSpec::Twap(Twap {
                        start,
                        end: start + len,
                        slices,
                        at_end,
                        participation: part.map(|p| Participation::new(p).unwrap()),
                        child_tif: TimeInForce::Day,
                    })
                }),
            (1i64..1_000).prop_map(|v| AlgoSpec::Iceberg(Iceberg {
                visible: Quantity(Decimal::from(v)),
            })),
        ],
        proptest::collection::vec(answer(), 1..40),
        proptest::option::of(0u64..30),
    )
        .prop_map(|(book, side, steps, spec, answers, cancel_at)| Case {
            book,
            side,
            steps,
            spec,
            answers,
            cancel_at,
        })
}

/// The algorithm, the book and a fake venue answering by the case's list.
struct Run {
    inst: Instrument,
    rules: MarketRules,
    oms: Oms,
    algos: Algos,
    parent: OrderId,
    total: Quantity,
    visible: Option<Quantity>,
    answers: Vec<Answer>,
    next: usize,
    /// Children asked to cancel, not yet confirmed.
    cancels: Vec<OrderId>,
    children: Vec<(OrderId, Quantity)>,
    now: NaiveDate,
}

impl Run {
    fn valid(&self, q: Quantity) -> bool {
        q.0 > Decimal::ZERO && self.rules.round_buy(&self.inst, q) == q
    }

    fn leaves(&self, id: OrderId) -> Quantity {
        self.oms.get(id).unwrap().leaves().unwrap()
    }

    fn algo(&self) -> Option<&Algo> {
        self.algos.get(self.parent)
    }

    fn act(&mut self, actions: Vec<AlgoAction>) -> Result<(), TestCaseError> {
        for a in actions {
            match a {
                AlgoAction::Submit(id) => {
                    let o = self.oms.get(id).unwrap();
                    let OrderQty::Units(size) = o.requested else {
                        return Err(TestCaseError::fail("a child not in units"));
                    };
                    prop_assert_eq!(o.side, self.oms.get(self.parent).unwrap().side);
                    let algo = self.algo().unwrap();
                    let unsent = self.total - algo.filled() - algo.working();
                    // a valid lot, or a sell's last child with its odd lot
                    prop_assert!(
                        self.valid(size) || (o.side == Side::Sell && unsent.is_zero()),
                        "child {} of {} is not a valid lot",
                        size,
                        self.inst.symbol.as_str()
                    );
                    if let Some(v) = self.visible {
                        prop_assert!(size <= v, "clip {} above visible {}", size, v);
                    }
                    self.children.push((id, size));
                    self.oms
                        .apply(Report::Accepted { id, venue_id: None }, self.now)
                        .unwrap();
                }
                AlgoAction::Cancel(id) => {
                    self.oms.request_cancel(id, self.now).unwrap();
                    self.cancels.push(id);
                }
                AlgoAction::Parent(r) => {
                    self.oms.apply(r, self.now).unwrap();
                }
                AlgoAction::ParentFill(f) => {
                    prop_assert_eq!(f.order_id, self.parent);
                    self.oms.apply_parent_fill(f, self.now).unwrap();
                }
            }
        }
        self.check()
    }

    fn report(&mut self, r: Report) -> Result<(), TestCaseError> {
        if let Outcome::Applied(_) = self.oms.apply(r.clone(), self.now).unwrap() {
            let now = self.now;
            let oms = &mut self.oms;
            let a = self
                .algos
                .on_report(&r, now, &mut |o| oms.create(o, now))
                .unwrap();
            self.act(a)?;
        }
        Ok(())
    }

    fn fill(&mut self, id: OrderId, q: Quantity) -> Result<(), TestCaseError> {
        if q.0 <= Decimal::ZERO {
            return Ok(());
        }
        let o = self.oms.get(id).unwrap();
        let f = Fill {
            order_id: id,
            date: self.now,
            time: None,
            instrument: o.instrument,
            symbol: o.symbol.clone(),
            side: o.side,
            quantity: q,
            price: Price(dec!(10)),
            commission: Cash(Decimal::ZERO),
            stamp_duty: Cash(Decimal::ZERO),
            transfer_fee: Cash(Decimal::ZERO),
        };
        self.report(Report::Fill {
            fill: f,
            fill_id: None,
            complete: None,
            cut: None,
        })
    }

    /// The venue answers every working child once: by the case's list, or
    /// when draining by filling all (confirming cancels).
    fn venue_step(&mut self, drain: bool) -> Result<(), TestCaseError> {
        let open: Vec<OrderId> = self
            .children
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| self.oms.get(*id).unwrap().status.is_open())
            .collect();
        for id in open {
            if !self.oms.get(id).unwrap().status.is_open() {
                continue;
            }
            let cancelling = self.cancels.contains(&id);
            let ans = if drain {
                if cancelling { Answer::End } else { Answer::All }
            } else {
                let a = self.answers[self.next % self.answers.len()];
                self.next += 1;
                a
            };
            let leaves = self.leaves(id);
            let half = self
                .rules
                .round_buy(&self.inst, Quantity(leaves.0 / Decimal::TWO));
            match ans {
                Answer::Nothing => {}
                Answer::Half => self.fill(id, half)?,
                Answer::HalfThenExpire => {
                    self.fill(id, half)?;
                    if self.oms.get(id).unwrap().status.is_open() {
                        self.report(Report::Expired { id })?;
                    }
                }
                Answer::All => self.fill(id, leaves)?,
                Answer::End => {
                    let o = self.oms.get(id).unwrap();
                    let r = if cancelling {
                        Report::Cancelled { id }
                    } else if o.filled.is_zero() && o.status == OrderStatus::Accepted {
                        Report::Rejected {
                            id,
                            reason: quant_core::RejectReason::LimitNotReached,
                        }
                    } else {
                        Report::Expired { id }
                    };
                    self.report(r)?;
                }
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let child_fills: Decimal = self
            .children
            .iter()
            .map(|(id, _)| self.oms.get(*id).unwrap().filled.0)
            .sum();
        let parent = self.oms.get(self.parent).unwrap();
        prop_assert_eq!(parent.filled.0, child_fills, "the book's parent");
        prop_assert!(parent.filled <= self.total);
        if let Some(a) = self.algo() {
            prop_assert_eq!(a.filled().0, child_fills, "the algorithm's parent");
            prop_assert!(
                a.filled() + a.working() <= self.total,
                "more than the parent out"
            );
            if let Some(v) = self.visible {
                prop_assert!(a.working() <= v, "{} shown, visible {}", a.working(), v);
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn children_add_up_to_the_parent(c in case()) {
        let (sym, step, min_buy) = BOOKS[c.book];
        let (inst, rules) = instrument(sym);
        let mut units = Decimal::from(c.steps) * step;
        if c.side == Side::Buy {
            units = units.max(min_buy);
        }
        let total = Quantity(units);
        let (ty, visible) = match c.spec {
            AlgoSpec::Iceberg(i) => {
                // a clip of whole lots in the instrument's steps
                let v = rules.round_buy(&inst, Quantity((i.visible.0 * step).max(min_buy)));
                (OrderType::Limit(Price(dec!(10))), Some(v))
            }
            AlgoSpec::Twap(_) => (OrderType::Market, None),
        };
        let spec = match (c.spec, visible) {
            (AlgoSpec::Iceberg(_), Some(v)) => AlgoSpec::Iceberg(Iceberg { visible: v }),
            (s, _) => s,
        };
        let mut oms = Oms::new(None).unwrap();
        let parent = oms.create(parent_order(&inst, c.side, ty, total), day(0)).unwrap();
        let algo = Algo::new(oms.get(parent).unwrap(), spec, &rules, &inst).unwrap();
        let mut run = Run {
            inst,
            rules,
            oms,
            algos: Algos::new(),
            parent,
            total,
            visible,
            answers: c.answers.clone(),
            next: 0,
            cancels: Vec::new(),
            children: Vec::new(),
            now: day(0),
        };
        let volume = |t: u64| (t as f64 * 7_919.0) % 20_000.0;
        {
            let oms = &mut run.oms;
            let a = run
                .algos
                .start(algo, 0, Some(volume(0)), day(0), &mut |o| oms.create(o, day(0)))
                .unwrap();
            run.algos.get(parent).unwrap();
            run.act(a)?;
        }
        // random answers before the horizon (a TWAP's end), none at it (so
        // that children are still working when the window closes), then
        // the venue fills everything
        let horizon = match spec {
            AlgoSpec::Twap(t) => t.end,
            AlgoSpec::Iceberg(_) => 40,
        };
        for t in 1..horizon + 60 {
            run.now = day(t as u32);
            if t < horizon {
                run.venue_step(false)?;
            } else if t > horizon {
                // fill until nothing works (an iceberg places its clips
                // one by one)
                for _ in 0..10_000 {
                    run.venue_step(true)?;
                    let working = run.algos.get(parent).map_or(Quantity::ZERO, Algo::working);
                    if working.is_zero() {
                        break;
                    }
                }
            }
            if c.cancel_at == Some(t) && run.algos.is_parent(parent) {
                run.oms.request_cancel(parent, run.now).unwrap();
                let a = run.algos.cancel(parent);
                run.act(a)?;
            }
            let now = run.now;
            let bar = Bar {
                date: now,
                open: 10.0,
                high: 10.0,
                low: 10.0,
                close: 10.0,
                pre_close: f64::NAN,
                volume: volume(t),
                amount: f64::NAN,
                adj_factor: 1.0,
            };
            let oms = &mut run.oms;
            let a = run
                .algos
                .on_bars(t, now, &[Some(bar)], &mut |o| oms.create(o, now))
                .unwrap();
            run.act(a)?;
            if run.algos.is_empty() {
                break;
            }
        }
        prop_assert!(run.algos.is_empty(), "the algorithm never finished");
        let p = run.oms.get(parent).unwrap().clone();
        prop_assert!(p.status.is_terminal(), "parent left {:?}", p.status);
        prop_assert_eq!(p.status == OrderStatus::Filled, p.filled == total);
        for (id, _) in &run.children {
            prop_assert!(run.oms.get(*id).unwrap().status.is_terminal());
        }
        // a TWAP that ends with a market order (filled by the draining
        // venue) and was not cancelled leaves nothing a valid lot could
        // still buy or sell
        if let AlgoSpec::Twap(t) = spec
            && t.at_end == AtEnd::Market
            && p.status != OrderStatus::Cancelled
        {
            let rest = total - p.filled;
            prop_assert!(
                rest.is_zero() || (c.side == Side::Buy && run.rules.round_buy(&run.inst, rest).is_zero()),
                "{} left of {}", rest, total
            );
        }
    }
}
