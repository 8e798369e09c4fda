//! The AS signing key (ES256, generated at start), its JWKS, and compact-JWS helpers.
//!
//! The ES256 primitive (sign and verify) is ring's P-256, which is several times faster than the
//! pure-Rust p256 crate; the two ECDSA operations per exchange were most of the server's CPU.
//! Header and claims are handled as JSON here so that the validation steps (and the fault
//! switches) stay explicit.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Tokens longer than this are refused before any parsing (robustness, ADV-52).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// An uncompressed SEC1 P-256 point: 0x04 || x || y.
const POINT_LEN: usize = 65;
const COORD_LEN: usize = 32;

pub struct Keys {
    kid: String,
    signing: EcdsaKeyPair,
    rng: SystemRandom,
    verifying: PublicKey,
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
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| "key generation failed".to_string())?;
        let signing =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                .map_err(|e| format!("signing key: {e}"))?;
        let point = signing.public_key().as_ref();
        if point.len() != POINT_LEN || point[0] != 0x04 {
            return Err("public key is not an uncompressed P-256 point".into());
        }
        let x = URL_SAFE_NO_PAD.encode(&point[1..1 + COORD_LEN]);
        let y = URL_SAFE_NO_PAD.encode(&point[1 + COORD_LEN..]);
        // RFC 7638 thumbprint as kid.
        let thumb_input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumb_input.as_bytes()));
        let verifying = PublicKey(point.to_vec());
        Ok(Keys {
            public_jwk: json!({"kty": "EC", "crv": "P-256", "x": x, "y": y,
                               "kid": kid, "use": "sig", "alg": "ES256"}),
            kid,
            signing,
            rng,
            verifying,
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
        let mut jws = format!("{h}.{c}");
        // ES256 (RFC 7518 §3.4): SHA-256, R || S as two 32-byte big-endian integers (ring's
        // FIXED format). The nonce is random, hedged with the message (ring).
        let sig = self
            .signing
            .sign(&self.rng, jws.as_bytes())
            .map_err(|_| "signing failed".to_string())?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(sig.as_ref(), &mut jws);
        Ok(jws)
    }

    /// Signs with the standard header `{typ, alg: ES256, kid}`.
    pub fn sign_typed(&self, typ: &str, claims: &Value) -> Result<String, String> {
        let mut header = Map::new();
        header.insert("typ".into(), Value::from(typ));
        self.sign(header, claims)
    }

    /// Verifies an ES256 signature with the AS key.
    pub fn verify(&self, jws: &Jws<'_>) -> bool {
        verify_with(jws, &self.verifying)
    }
}

/// An ES256 verification key: an uncompressed P-256 point (checked by ring on use).
#[derive(Debug)]
pub struct PublicKey(Vec<u8>);

/// Verifies an ES256 signature (base64url of R || S, 64 bytes) with the given key.
pub fn verify_with(jws: &Jws<'_>, key: &PublicKey) -> bool {
    let Ok(sig) = URL_SAFE_NO_PAD.decode(jws.signature) else {
        return false;
    };
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &key.0)
        .verify(jws.signing_input.as_bytes(), &sig)
        .is_ok()
}

/// Builds a verification key from a public EC P-256 JWK (only used by a fault switch: a header
/// `jwk` must never be trusted, RFC 8725 §3.10).
pub fn key_from_jwk(jwk: &Value) -> Option<PublicKey> {
    if jwk.get("kty")?.as_str()? != "EC" || jwk.get("crv")?.as_str()? != "P-256" {
        return None;
    }
    let x = URL_SAFE_NO_PAD.decode(jwk.get("x")?.as_str()?).ok()?;
    let y = URL_SAFE_NO_PAD.decode(jwk.get("y")?.as_str()?).ok()?;
    // Like any other bad key, a point of the wrong size fails at verification.
    let mut point = Vec::with_capacity(POINT_LEN);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Some(PublicKey(point))
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
    use rand::Rng;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
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
    fn published_jwk_verifies_and_bad_signatures_fail() {
        let k = Keys::generate().unwrap();
        let t = k
            .sign_typed("actor+jwt", &json!({"sub": "agent-a"}))
            .unwrap();
        let jwk = &k.jwks()["keys"][0];
        let key = key_from_jwk(jwk).unwrap();
        assert!(verify_with(&Jws::parse(&t).unwrap(), &key));
        // ES256 signatures are R || S, 64 bytes: DER, truncated or padded forms are refused.
        let (input, sig) = t.rsplit_once('.').unwrap();
        let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert_eq!(raw.len(), 64);
        for bad in [
            &raw[..63],
            &[raw.as_slice(), &[0]].concat()[..],
            &[0u8; 64][..],
        ] {
            let t = format!("{input}.{}", URL_SAFE_NO_PAD.encode(bad));
            assert!(!k.verify(&Jws::parse(&t).unwrap()));
        }
        assert!(!k.verify(&Jws::parse(&format!("{input}.!!")).unwrap()));
        // A JWK that is not a P-256 point is unusable or fails verification.
        let mut other = jwk.clone();
        other["crv"] = json!("P-384");
        assert!(key_from_jwk(&other).is_none());
        let mut short = jwk.clone();
        short["x"] = json!("AAAA");
        let short = key_from_jwk(&short).unwrap();
        assert!(!verify_with(&Jws::parse(&t).unwrap(), &short));
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
