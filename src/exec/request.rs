//! From a step to a request: `${...}` variables, the wire names of the target's revision,
//! client authentication (`auth`), and the `params`/`omit`/`append`/`duplicate` modifications.

use base64::Engine as _;
use serde_json::json;
use url::Url;

use super::context::{now_unix, TargetContext};
use super::session::Request;
use super::stop::{Flow, Stop};
use crate::case::step::Edits;
use crate::case::vocabulary::{ActorName, ClientAuth, ClientName};
use crate::case::Expect;
use crate::jose::SigningKey;
use crate::profile::{AuthMethod, Client};

impl<'a> TargetContext<'a> {
    pub(crate) fn expand(&self, s: &str) -> Flow<String> {
        crate::vars::substitute(s, |n| self.target.variable(n))
            .map_err(|n| Stop::Skip(format!("the profile gives no value for ${{{n}}}")))
    }

    pub(crate) fn expand_value(&self, v: &toml::Value) -> Flow<toml::Value> {
        Ok(match v {
            toml::Value::String(s) => toml::Value::String(self.expand(s)?),
            toml::Value::Array(a) => toml::Value::Array(
                a.iter()
                    .map(|x| self.expand_value(x))
                    .collect::<Flow<_>>()?,
            ),
            toml::Value::Table(t) => {
                let mut out = toml::map::Map::new();
                for (k, x) in t {
                    out.insert(k.clone(), self.expand_value(x)?);
                }
                toml::Value::Table(out)
            }
            other => other.clone(),
        })
    }

    pub(crate) fn expand_expect(&self, e: &Expect) -> Flow<Expect> {
        let mut e = e.clone();
        let table = |t: &mut Option<std::collections::BTreeMap<String, toml::Value>>| -> Flow {
            if let Some(t) = t {
                for v in t.values_mut() {
                    *v = self.expand_value(v)?;
                }
            }
            Ok(())
        };
        table(&mut e.json)?;
        table(&mut e.json_contains)?;
        table(&mut e.json_if_present)?;
        table(&mut e.claims)?;
        if let Some(s) = &e.client_claim {
            e.client_claim = Some(self.expand(s)?);
        }
        if let Some(s) = &e.scope_within {
            e.scope_within = Some(self.expand(s)?);
        }
        if let Some(c) = e.challenge.as_mut() {
            if let Some(s) = &c.scope {
                c.scope = Some(self.expand(s)?);
            }
        }
        if let Some(list) = &e.consent_page_contains {
            e.consent_page_contains =
                Some(list.iter().map(|s| self.expand(s)).collect::<Flow<_>>()?);
        }
        Ok(e)
    }

    pub(crate) fn client(&self, which: ClientName) -> Flow<&'a Client> {
        self.target
            .client(which.name())
            .ok_or_else(|| Stop::Skip(format!("the profile has no {which} client")))
    }

    pub(crate) fn actor_id(&self, which: ActorName) -> Flow<String> {
        self.target
            .actor(which.name())
            .map(|a| a.id.clone())
            .ok_or_else(|| Stop::Skip(format!("the profile has no actor {which:?}")))
    }

    /// -00 wire names for the -02 names cases are written with.
    pub(crate) fn wire(&self, name: &str) -> String {
        if self.target.profile.revision == "00" {
            match name {
                "requested_actor" => return "requested_agent".into(),
                "actor_token" => return "agent_token".into(),
                _ => {}
            }
        }
        name.to_string()
    }

    pub(crate) fn param_value(&self, v: &toml::Value) -> Flow<String> {
        Ok(match v {
            toml::Value::String(s) => self.expand(s)?,
            other => other.to_string(),
        })
    }

    /// Applies `params`, `omit`, `append`, `duplicate` after the normal request was built.
    pub(crate) fn modify(&self, pairs: &mut Vec<(String, String)>, edits: Edits<'_>) -> Flow {
        for (k, v) in edits.params.into_iter().flatten() {
            let k = self.wire(k);
            let v = self.param_value(v)?;
            match pairs.iter_mut().find(|(n, _)| *n == k) {
                Some(slot) => slot.1 = v,
                None => pairs.push((k, v)),
            }
        }
        for k in edits.omit.into_iter().flatten() {
            let k = self.wire(k);
            pairs.retain(|(n, _)| *n != k);
        }
        for (k, v) in edits.append.into_iter().flatten() {
            pairs.push((self.wire(k), self.param_value(v)?));
        }
        for k in edits.duplicate.into_iter().flatten() {
            let k = self.wire(k);
            if let Some((_, v)) = pairs.iter().find(|(n, _)| *n == k).cloned() {
                pairs.push((k, v));
            }
        }
        Ok(())
    }

    // ---- client authentication ----------------------------------------------------------

    /// A form POST of `pairs` to `endpoint`, authenticated as `client` by `mode`, with the
    /// step's request edits applied last (so `omit = ["token"]` removes the token).
    pub(crate) fn authenticated_form(
        &mut self,
        client: &Client,
        mode: ClientAuth,
        endpoint: Url,
        mut pairs: Vec<(String, String)>,
        edits: Edits<'_>,
    ) -> Flow<Request> {
        let mut headers = Vec::new();
        self.client_auth(client, mode, &endpoint, &mut pairs, &mut headers);
        self.modify(&mut pairs, edits)?;
        let mut req = Request::post_form(endpoint, &pairs);
        req.headers = headers;
        Ok(req)
    }

    /// Adds client authentication for `client` to a request to `endpoint`: as the profile
    /// says, `none` (client_id only), `wrong_secret`, or `wrong_secret_basic` (a wrong secret in
    /// HTTP Basic whatever the profile's method: RFC 6749 §2.3.1 makes every AS accept Basic
    /// from clients with a password, and §5.2 says how it must refuse one).
    pub(crate) fn client_auth(
        &mut self,
        client: &Client,
        mode: ClientAuth,
        endpoint: &Url,
        pairs: &mut Vec<(String, String)>,
        headers: &mut Vec<(String, String)>,
    ) {
        let id = client.id.clone();
        let secret = match mode {
            ClientAuth::WrongSecret | ClientAuth::WrongSecretBasic => {
                Some(format!("wrong-{}", self.random_b64(9)))
            }
            ClientAuth::NearSecret => {
                let near = near_secret(client.secret.as_deref().unwrap_or(""));
                // A wrong secret this close to the real one is as sensitive: reports redact it.
                self.sent_secrets.push(near.clone());
                Some(near)
            }
            _ => client.secret.clone(),
        };
        let push_id = |pairs: &mut Vec<(String, String)>| {
            if !pairs.iter().any(|(k, _)| k == "client_id") {
                pairs.push(("client_id".into(), id.clone()));
            }
        };
        if mode == ClientAuth::None {
            push_id(pairs);
            return;
        }
        let method = if mode == ClientAuth::WrongSecretBasic {
            AuthMethod::ClientSecretBasic
        } else {
            client.auth_method
        };
        match method {
            AuthMethod::ClientSecretBasic => {
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let raw = format!("{}:{}", enc(&id), enc(secret.as_deref().unwrap_or("")));
                let b = base64::engine::general_purpose::STANDARD.encode(raw);
                headers.push(("authorization".into(), format!("Basic {b}")));
            }
            AuthMethod::ClientSecretPost => {
                push_id(pairs);
                pairs.push(("client_secret".into(), secret.unwrap_or_default()));
            }
            AuthMethod::None => push_id(pairs),
            AuthMethod::PrivateKeyJwt => {
                push_id(pairs);
                let key = match (mode, client.key_pem.as_deref().map(SigningKey::from_pem)) {
                    (ClientAuth::WrongSecret | ClientAuth::NearSecret, _)
                    | (_, None)
                    | (_, Some(Err(_))) => self.attacker_key(),
                    (_, Some(Ok(k))) => k,
                };
                let now = now_unix();
                let jti = self.random_b64(16);
                let claims = json!({ "iss": id, "sub": id, "aud": endpoint.as_str(), "iat": now, "exp": now + 60, "jti": jti });
                let assertion = key.sign(&json!({ "typ": "JWT" }), &claims);
                pairs.push((
                    "client_assertion_type".into(),
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                pairs.push(("client_assertion".into(), assertion));
            }
        }
    }
}

/// `auth = "near_secret"`: `secret` with two characters changed by the same bit (0x01), so the
/// wrong secret has the real one's length and an XOR-accumulating comparison that drops or
/// cancels differences (`&` or `^` in place of `|`) would call it equal; only a comparison of
/// every byte refuses it (RFC 6749 §2.3.1). The first and last characters whose flip stays a
/// visible ASCII character are changed; with one such character only that one, with none the
/// secret gets one visible character appended (still wrong, whatever the comparison).
pub fn near_secret(secret: &str) -> String {
    let flip = |c: char| {
        u8::try_from(c)
            .ok()
            .map(|b| char::from(b ^ 0x01))
            .filter(|f| c.is_ascii_graphic() && f.is_ascii_graphic())
    };
    let mut chars: Vec<char> = secret.chars().collect();
    let flippable: Vec<usize> = (0..chars.len())
        .filter(|&i| flip(chars[i]).is_some())
        .collect();
    match (flippable.first(), flippable.last()) {
        (Some(&a), Some(&b)) => {
            for i in if a == b { vec![a] } else { vec![a, b] } {
                chars[i] = flip(chars[i]).unwrap_or(chars[i]);
            }
            chars.into_iter().collect()
        }
        _ => format!("{secret}x"),
    }
}

#[cfg(test)]
mod tests {
    use super::near_secret;

    #[test]
    fn near_secret_keeps_the_length_and_flips_the_same_bit_twice() {
        let real = "s3cret-primary";
        let near = near_secret(real);
        assert_eq!(near.len(), real.len());
        assert_ne!(near, real);
        let diffs: Vec<u8> = real
            .bytes()
            .zip(near.bytes())
            .map(|(a, b)| a ^ b)
            .filter(|d| *d != 0)
            .collect();
        assert_eq!(diffs, vec![1, 1], "two characters, the same bit");
        // Short and odd secrets still give a wrong, visible secret.
        assert_eq!(near_secret("a"), "`");
        assert_eq!(near_secret(""), "x");
        assert_ne!(near_secret("~~"), "~~");
    }
}
