//! The webhook signature verifies for any body and secret, and fails on
//! any one-byte change of the body or the header.

use proptest::prelude::*;
use quant_alerts::{verify_webhook_signature, webhook_signature};

use crate::common::hmac256;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn verifies_and_detects_any_change(
        secret in proptest::collection::vec(any::<u8>(), 1..64),
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let header = webhook_signature(&secret, &body);
        prop_assert_eq!(&header, &format!("sha256={}", hex::encode(hmac256(&secret, &body))));
        prop_assert!(verify_webhook_signature(&secret, &body, &header));
        if !body.is_empty() {
            let mut changed = body.clone();
            let i = at.index(changed.len());
            changed[i] ^= flip;
            prop_assert!(!verify_webhook_signature(&secret, &changed, &header));
        }
        // one hex digit of the header changed
        let mut h = header.clone().into_bytes();
        let i = 7 + at.index(64);
        h[i] = if h[i] == b'0' { b'1' } else { b'0' };
        let h = String::from_utf8(h).unwrap();
        prop_assert!(!verify_webhook_signature(&secret, &body, &h));
        // another secret
        let mut other = secret.clone();
        other[0] ^= flip;
        prop_assert!(!verify_webhook_signature(&other, &body, &header));
    }
}
