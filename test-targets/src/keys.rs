//! The AS signing key (ES256 through `jsonwebtoken`), its JWKS, and JWT verification with the
//! target's own clock (expiry is checked by the caller, which knows the clock offset).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Map, Value};

pub struct Keys {
    pub kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    x: String,
    y: String,
}

impl Keys {
    pub fn generate(rng: &mut ChaCha20Rng) -> Keys {
        let secret = <p256::SecretKey as p256::elliptic_curve::Generate>::generate_from_rng(rng);
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .expect("a fresh P-256 key encodes as PKCS#8");
        let point =
            p256::elliptic_curve::sec1::ToSec1Point::to_sec1_point(&secret.public_key(), false);
        let x = URL_SAFE_NO_PAD.encode(point.x().map(|x| &x[..]).unwrap_or_default());
        let y = URL_SAFE_NO_PAD.encode(point.y().map(|y| &y[..]).unwrap_or_default());
        let encoding =
            EncodingKey::from_ec_pem(pem.as_bytes()).expect("PKCS#8 PEM is an EC signing key");
        let decoding = DecodingKey::from_ec_components(&x, &y).expect("valid EC point");
        let kid = format!("tt-{}", &x[..8]);
        Keys {
            kid,
            encoding,
            decoding,
            x,
            y,
        }
    }

    pub fn jwks(&self) -> Value {
        json!({"keys": [{
            "kty": "EC", "crv": "P-256", "x": self.x, "y": self.y,
            "kid": self.kid, "use": "sig", "alg": "ES256"
        }]})
    }

    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(typ.to_string());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap_or_default()
    }

    /// Verifies a token signed with this AS key: ES256, our `kid`. Returns (typ, claims).
    pub fn verify_own(&self, token: &str) -> Result<(Option<String>, Map<String, Value>), String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("header: {e}"))?;
        if header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err("unknown kid".into());
        }
        let claims = verify_with(token, &self.decoding)?;
        Ok((header.typ, claims))
    }
}

/// Signature and algorithm only (ES256 allow-list, OBO-INH-20); time claims are the caller's.
pub fn verify_with(token: &str, key: &DecodingKey) -> Result<Map<String, Value>, String> {
    let mut v = Validation::new(Algorithm::ES256);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Map<String, Value>>(token, key, &v)
        .map(|d| d.claims)
        .map_err(|e| format!("signature: {e}"))
}

/// The `iss` of an unverified token, to pick the key that must have signed it.
pub fn peek_issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("iss")?.as_str().map(str::to_string)
}

/// A trusted external issuer's key from its SPKI PEM.
pub fn decoding_key_pem(pem: &str) -> Result<DecodingKey, String> {
    DecodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| format!("issuer key: {e}"))
}
