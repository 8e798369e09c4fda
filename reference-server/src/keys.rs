//! The AS signing key (ES256, generated at start), its JWKS, and compact-JWS helpers.
//!
//! Verification goes through jsonwebtoken's ES256 primitive; signing uses the p256 key directly
//! (jsonwebtoken rebuilds the key from PKCS#8 on every call, which costs one extra scalar
//! multiplication per token). Header and claims are handled as JSON here so that the validation
//! steps (and the fault switches) stay explicit.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Tokens longer than this are refused before any parsing (robustness, ADV-52).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

pub struct Keys {
    kid: String,
    signing: SigningKey,
    decoding: DecodingKey,
    public_jwk: Value,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// A fresh P-256 key pair from the OS RNG.
    pub fn generate() -> Result<Keys, String> {
        let signing = SigningKey::random(&mut rand::rngs::OsRng);
        let point = signing.verifying_key().to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err("public key has no affine coordinates".into());
        };
        let x = URL_SAFE_NO_PAD.encode(x);
        let y = URL_SAFE_NO_PAD.encode(y);
        // RFC 7638 thumbprint as kid.
        let thumb_input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumb_input.as_bytes()));
        let decoding =
            DecodingKey::from_ec_components(&x, &y).map_err(|e| format!("decoding key: {e}"))?;
        Ok(Keys {
            public_jwk: json!({"kty": "EC", "crv": "P-256", "x": x, "y": y,
                               "kid": kid, "use": "sig", "alg": "ES256"}),
            kid,
            signing,
            decoding,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.public_jwk] })
    }

    /// Signs `claims` with ES256 under the given header members (alg and kid are set here
    /// unless the header already names a kid).
    pub fn sign(&self, header: Map<String, Value>, claims: &Value) -> Result<String, String> {
        let mut header = header;
        header.insert("alg".into(), Value::from("ES256"));
        header
            .entry("kid")
            .or_insert_with(|| Value::from(self.kid.clone()));
        let h = URL_SAFE_NO_PAD.encode(Value::Object(header).to_string());
        let c = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{h}.{c}");
        // ES256 (RFC 7518 §3.4): SHA-256, deterministic nonce (RFC 6979), R || S.
        let sig: Signature = self
            .signing
            .try_sign(input.as_bytes())
            .map_err(|e| format!("signing: {e}"))?;
        Ok(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(sig.to_bytes())
        ))
    }

    /// Signs with the standard header `{typ, alg: ES256, kid}`.
    pub fn sign_typed(&self, typ: &str, claims: &Value) -> Result<String, String> {
        let mut header = Map::new();
        header.insert("typ".into(), Value::from(typ));
        self.sign(header, claims)
    }

    /// Verifies an ES256 signature with the AS key.
    pub fn verify(&self, jws: &Jws<'_>) -> bool {
        verify_with(jws, &self.decoding)
    }
}

/// Verifies an ES256 signature with the given key.
pub fn verify_with(jws: &Jws<'_>, key: &DecodingKey) -> bool {
    jsonwebtoken::crypto::verify(
        jws.signature,
        jws.signing_input.as_bytes(),
        key,
        Algorithm::ES256,
    )
    .unwrap_or(false)
}

/// Builds a verification key from a public EC P-256 JWK (only used by a fault switch: a header
/// `jwk` must never be trusted, RFC 8725 §3.10).
pub fn key_from_jwk(jwk: &Value) -> Option<DecodingKey> {
    if jwk.get("kty")?.as_str()? != "EC" || jwk.get("crv")?.as_str()? != "P-256" {
        return None;
    }
    DecodingKey::from_ec_components(jwk.get("x")?.as_str()?, jwk.get("y")?.as_str()?).ok()
}

/// A compact JWS split into its parts, header and claims parsed as JSON objects.
#[derive(Debug)]
pub struct Jws<'a> {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub signing_input: &'a str,
    pub signature: &'a str,
}

impl<'a> Jws<'a> {
    /// Parses a compact JWS. Never panics on garbage.
    pub fn parse(token: &'a str) -> Result<Jws<'a>, &'static str> {
        if token.len() > MAX_TOKEN_LEN {
            return Err("token too long");
        }
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not a compact JWS (three dot-separated parts)");
        };
        let header = decode_object(h).ok_or("header is not base64url JSON object")?;
        let claims = decode_object(c).ok_or("payload is not base64url JSON object")?;
        let signing_input = &token[..h.len() + 1 + c.len()];
        Ok(Jws {
            header,
            claims,
            signing_input,
            signature: s,
        })
    }

    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    pub fn claim_i64(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }

    /// True when `aud` (string or array) contains `value`.
    pub fn aud_contains(&self, value: &str) -> bool {
        match self.claims.get("aud") {
            Some(Value::String(s)) => s == value,
            Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(value)),
            _ => false,
        }
    }
}

fn decode_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// 32 random bytes, base64url: codes, refresh tokens, jti, CSRF tokens, session ids.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// Constant-time comparison of secrets.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_and_tamper() {
        let k = Keys::generate().unwrap();
        let t = k.sign_typed("at+jwt", &json!({"sub": "x"})).unwrap();
        let jws = Jws::parse(&t).unwrap();
        assert!(k.verify(&jws));
        assert_eq!(jws.kid(), Some(k.kid()));
        // Same header and signature, other claims.
        let parts: Vec<&str> = t.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(json!({"sub": "y"}).to_string());
        let tampered = format!("{}.{other}.{}", parts[0], parts[2]);
        assert!(!k.verify(&Jws::parse(&tampered).unwrap()));
        // Another key's signature over the same input.
        let k2 = Keys::generate().unwrap();
        let t2 = k2.sign_typed("at+jwt", &json!({"sub": "x"})).unwrap();
        let swapped = format!(
            "{}.{}",
            parts[..2].join("."),
            t2.rsplit('.').next().unwrap()
        );
        let swapped = swapped.replace(k2.kid(), k.kid());
        assert!(!k.verify(&Jws::parse(&swapped).unwrap()));
    }

    #[test]
    fn garbage_is_refused_without_panic() {
        for g in ["", ".", "..", "a.b.c", "e30.e30.", "e30.W10.x", "a.b.c.d"] {
            let _ = Jws::parse(g);
        }
        assert!(Jws::parse("e30.e30.").is_ok());
        assert!(Jws::parse("e30.W10.x").is_err());
    }
}
