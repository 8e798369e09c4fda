//! The harness's own JOSE: compact JWS decoding, signature verification against a target's JWKS,
//! and a deterministic ES256 signer. Independent of the reference server on purpose: the suite
//! must not trust the code it tests.
//!
//! API (pure, synchronous, never panics on any input):
//! - [`Jwt`] `{ header, claims, signing_input, signature }` and [`decode_unverified`]`(token)`:
//!   exactly three base64url (no padding) segments, header and payload JSON objects.
//!   Helpers: [`Jwt::alg`], [`Jwt::kid`], [`Jwt::claim`]`("act.sub")`.
//! - [`verify`]`(token, jwks, allowed_algs) -> Result<Jwt, JoseError>`: key chosen from the JWKS by
//!   `kid` (or, without `kid`, every key of the right type is tried); `none`, any `HS*`, an alg
//!   outside `allowed_algs`, a key of the wrong type, a `crit` header are refused; `jwk`, `jku`,
//!   `x5u`, `x5c` headers are ignored (never a source of keys). Claims (exp, aud...) are NOT checked
//!   here: the harness checks them itself and reports each one.
//! - [`SigningKey`] (ES256, P-256): [`SigningKey::from_seed`]`(seed, label)`,
//!   [`SigningKey::from_pem`]`(pem)` (PKCS#8 or SEC1), `kid()` (RFC 7638 thumbprint),
//!   `public_jwk()`, `jwks()`, `sign(header_extra, claims)` (alg ES256 + kid + extra members),
//!   `sign_with_header(header, claims)` (header as given, only `alg` forced to ES256).
//! - [`b64url`], [`b64url_decode`], [`encode_segment`] (JSON value to a base64url segment),
//!   [`canonical_json`] (sorted members, no whitespace).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use p256::ecdsa::signature::Signer as _;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Why a token could not be decoded or verified. Messages never contain key material or signatures.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoseError {
    #[error("not a compact JWS: {0}")]
    Malformed(String),
    #[error("the JWS header has no string `alg`")]
    MissingAlg,
    #[error("`alg: none` is never accepted (unsigned token)")]
    AlgNone,
    #[error("symmetric alg `{0}` is never accepted for tokens signed by the target")]
    SymmetricAlg(String),
    #[error("alg `{0}` is not among the allowed algorithms {1:?}")]
    AlgNotAllowed(String, Vec<String>),
    #[error("alg `{0}` is not supported by the harness")]
    UnsupportedAlg(String),
    #[error("the JWS header has `crit` members, which the harness does not understand")]
    CriticalHeader,
    #[error("the JWKS is not an object with a `keys` array")]
    BadJwks,
    #[error("no key with kid `{0}` in the target's JWKS")]
    UnknownKid(String),
    #[error("no key in the target's JWKS fits alg `{0}` (key type, curve or key `alg` differ)")]
    NoKeyForAlg(String),
    #[error("signature does not verify with the target's key")]
    BadSignature,
    #[error("invalid key: {0}")]
    BadKey(String),
}

/// A decoded compact JWS. `signing_input` is the first two segments exactly as received.
#[derive(Clone, Debug, PartialEq)]
pub struct Jwt {
    pub header: Value,
    pub claims: Value,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

impl Jwt {
    /// The header's `alg`, if it is a string.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// The header's `kid`, if it is a string.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// A claim by dotted path (`"act.sub"`); `None` if any step is missing.
    pub fn claim(&self, path: &str) -> Option<&Value> {
        path.split('.')
            .try_fold(&self.claims, |value, key| value.get(key))
    }
}

/// base64url without padding (RFC 7515 §2).
pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url decoding: no padding, no stray bits.
pub fn b64url_decode(text: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| JoseError::Malformed(format!("bad base64url: {e}")))
}

/// A JSON value as a JWS segment (its compact serialisation, base64url).
pub fn encode_segment(value: &Value) -> String {
    b64url(value.to_string())
}

/// JSON with object members sorted by name and no whitespace, whatever serde_json's map order is.
pub fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let members: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), canonical_json(v)))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// Splits and decodes a compact JWS without checking its signature.
pub fn decode_unverified(token: &str) -> Result<Jwt, JoseError> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed(
            "expected exactly three dot-separated segments".into(),
        ));
    };
    let header = decode_json_object(h, "header")?;
    let claims = decode_json_object(p, "payload")?;
    let signature = b64url_decode(s)?;
    Ok(Jwt {
        header,
        claims,
        signing_input: format!("{h}.{p}"),
        signature,
    })
}

fn decode_json_object(segment: &str, what: &str) -> Result<Value, JoseError> {
    let bytes = b64url_decode(segment)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(JoseError::Malformed(format!("{what} is not a JSON object"))),
        Err(e) => Err(JoseError::Malformed(format!("{what} is not JSON: {e}"))),
    }
}

/// Verifies that `token` was signed by one of the keys in `jwks` with an allowed asymmetric alg.
/// Keys come only from `jwks`: a `jwk`/`jku`/`x5u`/`x5c` header is ignored (RFC 8725 §3.10).
pub fn verify(token: &str, jwks: &Value, allowed_algs: &[&str]) -> Result<Jwt, JoseError> {
    let jwt = decode_unverified(token)?;
    let alg = jwt.alg().ok_or(JoseError::MissingAlg)?.to_string();
    let algorithm = check_alg(&alg, allowed_algs)?;
    if jwt.header.get("crit").is_some() {
        return Err(JoseError::CriticalHeader);
    }
    let keys = jwks_keys(jwks)?;
    let by_kid: Vec<&Value> = match jwt.kid() {
        Some(kid) => {
            let found: Vec<&Value> = keys
                .iter()
                .filter(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
                .collect();
            if found.is_empty() {
                return Err(JoseError::UnknownKid(kid.to_string()));
            }
            found
        }
        None => keys.iter().collect(),
    };
    let candidates: Vec<&Value> = by_kid
        .into_iter()
        .filter(|k| key_fits_alg(k, &alg))
        .collect();
    if candidates.is_empty() {
        return Err(JoseError::NoKeyForAlg(alg));
    }
    let signature = b64url(&jwt.signature);
    for key in candidates {
        if algorithm == Algorithm::ES256 {
            if es256_verifies(key, &jwt) {
                return Ok(jwt);
            }
            continue;
        }
        let Ok(parsed) = serde_json::from_value::<Jwk>(key.clone()) else {
            continue;
        };
        let Ok(decoding) = DecodingKey::from_jwk(&parsed) else {
            continue;
        };
        if let Ok(true) = jsonwebtoken::crypto::verify(
            &signature,
            jwt.signing_input.as_bytes(),
            &decoding,
            algorithm,
        ) {
            return Ok(jwt);
        }
    }
    Err(JoseError::BadSignature)
}

/// ES256 with ring's P-256 (the common case of every token response; the pure-Rust verifier
/// costs several times more): the JWK's `x` and `y` as an uncompressed point, the signature as
/// the fixed 64-byte `r || s` of RFC 7518 §3.4. A malformed key or signature does not verify.
fn es256_verifies(key: &Value, jwt: &Jwt) -> bool {
    let coordinate = |name: &str| {
        key.get(name)
            .and_then(Value::as_str)
            .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
            .filter(|c| c.len() == 32)
    };
    let (Some(x), Some(y)) = (coordinate("x"), coordinate("y")) else {
        return false;
    };
    let point = [&[0x04][..], &x, &y].concat();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(jwt.signing_input.as_bytes(), &jwt.signature)
        .is_ok()
}

/// `none` and HMAC algs are refused before anything else (RFC 8725 §3.1, §3.2).
fn check_alg(alg: &str, allowed_algs: &[&str]) -> Result<Algorithm, JoseError> {
    if alg.eq_ignore_ascii_case("none") {
        return Err(JoseError::AlgNone);
    }
    if alg.to_ascii_uppercase().starts_with("HS") {
        return Err(JoseError::SymmetricAlg(alg.to_string()));
    }
    if !allowed_algs.contains(&alg) {
        return Err(JoseError::AlgNotAllowed(
            alg.to_string(),
            allowed_algs.iter().map(|a| a.to_string()).collect(),
        ));
    }
    match alg {
        "ES256" => Ok(Algorithm::ES256),
        "ES384" => Ok(Algorithm::ES384),
        "RS256" => Ok(Algorithm::RS256),
        "RS384" => Ok(Algorithm::RS384),
        "RS512" => Ok(Algorithm::RS512),
        "PS256" => Ok(Algorithm::PS256),
        "PS384" => Ok(Algorithm::PS384),
        "PS512" => Ok(Algorithm::PS512),
        "EdDSA" => Ok(Algorithm::EdDSA),
        other => Err(JoseError::UnsupportedAlg(other.to_string())),
    }
}

/// The `keys` of a JWKS; a lone JWK object is accepted as a one-key set.
fn jwks_keys(jwks: &Value) -> Result<Vec<Value>, JoseError> {
    if let Some(keys) = jwks.get("keys").and_then(Value::as_array) {
        return Ok(keys.clone());
    }
    if jwks.get("kty").is_some() {
        return Ok(vec![jwks.clone()]);
    }
    Err(JoseError::BadJwks)
}

/// Whether a JWK may verify `alg`: key type and curve match, its own `alg` (if any) is `alg`,
/// its `use` (if any) is `sig`, and it is not a symmetric key.
fn key_fits_alg(key: &Value, alg: &str) -> bool {
    let text = |name: &str| key.get(name).and_then(Value::as_str);
    if text("alg").is_some_and(|a| a != alg) || text("use").is_some_and(|u| u != "sig") {
        return false;
    }
    match (text("kty"), alg) {
        (Some("EC"), "ES256") => text("crv") == Some("P-256"),
        (Some("EC"), "ES384") => text("crv") == Some("P-384"),
        (Some("RSA"), a) => a.starts_with("RS") || a.starts_with("PS"),
        (Some("OKP"), "EdDSA") => text("crv") == Some("Ed25519"),
        _ => false,
    }
}

/// An ES256 (P-256) signing key of the harness: attacker keys and `jwt` actor-token sources.
#[derive(Clone)]
pub struct SigningKey {
    inner: p256::ecdsa::SigningKey,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    // Only the public thumbprint: the scalar must never reach a log or report.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &"ES256")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A key derived from the run's seed and a label (`"attacker"`, `"actor:a"`...), so that a run
    /// is reproducible under `--seed`. The scalar is SHA-256(seed_be || label || counter), with the
    /// counter bumped in the (astronomically unlikely) case the digest is not a valid scalar.
    pub fn from_seed(seed: u64, label: &str) -> SigningKey {
        let mut counter: u32 = 0;
        loop {
            let mut hasher = Sha256::new();
            hasher.update(seed.to_be_bytes());
            hasher.update(label.as_bytes());
            hasher.update(counter.to_be_bytes());
            let digest = hasher.finalize();
            if let Ok(inner) = p256::ecdsa::SigningKey::from_bytes(&digest) {
                return SigningKey::from_inner(inner);
            }
            counter = counter.wrapping_add(1);
        }
    }

    /// A key from a PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`), P-256 only.
    pub fn from_pem(pem: &str) -> Result<SigningKey, JoseError> {
        use p256::pkcs8::DecodePrivateKey as _;
        let secret = p256::SecretKey::from_pkcs8_pem(pem)
            .or_else(|_| p256::SecretKey::from_sec1_pem(pem))
            .map_err(|_| {
                JoseError::BadKey("not a P-256 private key in PKCS#8 or SEC1 PEM".into())
            })?;
        Ok(SigningKey::from_inner(p256::ecdsa::SigningKey::from(
            secret,
        )))
    }

    fn from_inner(inner: p256::ecdsa::SigningKey) -> SigningKey {
        let jwk = public_jwk_members(&inner);
        let kid = thumbprint(&jwk);
        SigningKey { inner, kid }
    }

    /// RFC 7638 thumbprint of the public key (base64url SHA-256).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK with `kid`, `alg: ES256` and `use: sig`.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = public_jwk_members(&self.inner);
        if let Value::Object(map) = &mut jwk {
            map.insert("kid".into(), Value::from(self.kid.clone()));
            map.insert("alg".into(), Value::from("ES256"));
            map.insert("use".into(), Value::from("sig"));
        }
        jwk
    }

    /// A JWKS holding only this key.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.public_jwk()] })
    }

    /// Signs `claims` with header `{alg: ES256, kid, ...header_extra}`; `header_extra` members
    /// (e.g. `typ`) are added and may override `kid`, but `alg` is always ES256.
    pub fn sign(&self, header_extra: &Value, claims: &Value) -> String {
        let mut header = Map::new();
        header.insert("kid".into(), Value::from(self.kid.clone()));
        if let Value::Object(extra) = header_extra {
            for (k, v) in extra {
                header.insert(k.clone(), v.clone());
            }
        }
        self.sign_with_header(&Value::Object(header), claims)
    }

    /// Signs with exactly `header` (an object; anything else counts as `{}`) except that `alg` is
    /// set to ES256. Used by forgeries that must keep a victim token's header members.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let mut header = match header {
            Value::Object(map) => map.clone(),
            _ => Map::new(),
        };
        header.insert("alg".into(), Value::from("ES256"));
        let signing_input = format!(
            "{}.{}",
            encode_segment(&Value::Object(header)),
            encode_segment(claims)
        );
        let signature = self.sign_bytes(signing_input.as_bytes());
        format!("{signing_input}.{}", b64url(signature))
    }

    /// Raw ES256 signature (r || s, 64 bytes; RFC 6979 deterministic nonces).
    pub fn sign_bytes(&self, message: &[u8]) -> Vec<u8> {
        let signature: p256::ecdsa::Signature = self.inner.sign(message);
        signature.to_bytes().to_vec()
    }
}

/// The required members of a P-256 public JWK (the ones RFC 7638 hashes).
fn public_jwk_members(key: &p256::ecdsa::SigningKey) -> Value {
    let point = key.verifying_key().to_sec1_point(false);
    let coordinate = |c: Option<&p256::FieldBytes>| c.map(b64url).unwrap_or_default();
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": coordinate(point.x()),
        "y": coordinate(point.y()),
    })
}

/// RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace.
fn thumbprint(required_members: &Value) -> String {
    b64url(Sha256::digest(canonical_json(required_members).as_bytes()))
}

#[cfg(test)]
mod tests;
