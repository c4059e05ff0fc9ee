//! Named pause points for crash tests.
//!
//! The kill tests of `docs/RELIABILITY.md` need to stop a writing command
//! at exact moments (between two staged files, in the middle of a file,
//! just before and just after the commit record) and SIGKILL it there.
//! With `QUANT_FAILPOINT=NAME` (or `NAME:N`, the N-th time, 1-based) in the
//! environment, the process prints `failpoint NAME reached` to stderr when
//! it gets to that point and then sleeps until it is killed. Without the
//! variable a failpoint is one relaxed atomic load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The armed point and the hit it stops at.
struct Armed {
    name: String,
    nth: u64,
    hits: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var("QUANT_FAILPOINT").ok()?;
            let (name, nth) = match spec.rsplit_once(':') {
                Some((n, k)) => (n.to_string(), k.trim().parse().ok()?),
                None => (spec, 1),
            };
            Some(Armed {
                name,
                nth,
                hits: AtomicU64::new(0),
            })
        })
        .as_ref()
}

/// Marks the point `name`. When `QUANT_FAILPOINT` arms it and this is the
/// armed hit, announces it on stderr and blocks forever (the test kills
/// the process); otherwise returns at once.
pub fn hit(name: &str) {
    let Some(a) = armed() else { return };
    if a.name != name {
        return;
    }
    let n = a.hits.fetch_add(1, Ordering::Relaxed) + 1;
    if n != a.nth {
        return;
    }
    eprintln!("failpoint {name} reached");
    loop {
        std::thread::park();
    }
}
