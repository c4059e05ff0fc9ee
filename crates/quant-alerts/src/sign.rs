//! The signatures the channels send: the webhook's
//! `X-Quant-Signature: sha256=<hex>`, Feishu's and DingTalk's `sign`, and
//! [`verify_webhook_signature`] for receivers of the webhook.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The webhook signature header.
pub const SIGNATURE_HEADER: &str = "X-Quant-Signature";

/// The webhook event-id header (the alert's [`crate::Alert::event_id`]).
pub const EVENT_ID_HEADER: &str = "X-Quant-Event-Id";

/// HMAC-SHA256 of `msg` under `key`.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: new_from_slice cannot fail
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// The webhook's `X-Quant-Signature` value for `body`:
/// `sha256=` and the lowercase hex HMAC-SHA256 of the raw body under
/// `secret`.
pub fn webhook_signature(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret, body)))
}

/// Whether `header` (an `X-Quant-Signature` value, `sha256=<hex>`, hex in
/// either case, surrounding blanks ignored) is the signature of `body`
/// under `secret`. The digests are compared in constant time; a header in
/// any other shape is `false`.
pub fn verify_webhook_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// Feishu/Lark's `sign` for `timestamp_secs` (Unix seconds, sent as the
/// `timestamp` string): base64 of HMAC-SHA256 with the key
/// `"{timestamp}\n{secret}"` over an empty message.
pub fn feishu_sign(secret: &str, timestamp_secs: i64) -> String {
    let key = format!("{timestamp_secs}\n{secret}");
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(key.as_bytes(), b""))
}

/// DingTalk's `sign` for `timestamp_ms` (Unix milliseconds, sent as the
/// `timestamp` query parameter), before URL encoding: base64 of
/// HMAC-SHA256 under `secret` over `"{timestamp}\n{secret}"`.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let msg = format!("{timestamp_ms}\n{secret}");
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(secret.as_bytes(), msg.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_round_trip() {
        let sig = webhook_signature(b"key", b"The quick brown fox jumps over the lazy dog");
        // the published example value of HMAC-SHA256("key", that sentence)
        assert_eq!(
            sig,
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        let body = b"The quick brown fox jumps over the lazy dog";
        assert!(verify_webhook_signature(b"key", body, &sig));
        assert!(verify_webhook_signature(
            b"key",
            body,
            &format!(" {} ", sig.to_uppercase().replace("SHA256=", "sha256="))
        ));
        assert!(!verify_webhook_signature(b"other", body, &sig));
        assert!(!verify_webhook_signature(b"key", b"x", &sig));
        for bad in ["", "sha256=", "sha256=zz", "md5=00", &sig[7..], &sig[..20]] {
            assert!(!verify_webhook_signature(b"key", body, bad), "{bad}");
        }
    }

    #[test]
    fn bot_signs_are_base64_of_32_bytes() {
        for s in [
            feishu_sign("sec", 1_700_000_000),
            dingtalk_sign("SEC1", 1_700_000_000_000),
        ] {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(&s)
                .unwrap();
            assert_eq!(raw.len(), 32);
        }
        assert_ne!(feishu_sign("sec", 1), feishu_sign("sec", 2));
        assert_ne!(dingtalk_sign("sec", 1), feishu_sign("sec", 1));
    }
}
