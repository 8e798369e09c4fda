//! Forged login and consent posts (RFC 6749 §10.12, OBO-INH-28): the `form` driver submits the
//! login or the consent form with its anti-CSRF value removed or replaced by a wrong one, and
//! reports how the AS answered. The AS must not let a post it cannot tell from a third party's
//! lead to an authorization: a code after the forged post is the target's failure; the form shown
//! again, an error page or an error redirect is its refusal.
//!
//! The anti-CSRF field is recognised without knowing the server: the profile's `csrf_field`
//! (`[consent]` of the `form` driver), else a hidden input named like the fields of common
//! frameworks ([`USUAL_NAMES`], or a name containing `csrf` or `xsrf`), case-insensitively. A
//! form without one is not a failure (SameSite cookies or Origin checks protect without a
//! field): the case skips naming what to declare.

use super::html_form::Form;
use super::AuthzOutcome;
use crate::profile::{Consent, PageRole, Target};

/// Which form is posted forged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgedForm {
    Login,
    Consent,
}

/// What is done to the anti-CSRF value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// The field is left out of the post.
    Remove,
    /// The field carries a value that differs from the page's at every letter and digit.
    Alter,
}

/// One forged post: which form, and what is done to its anti-CSRF value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forgery {
    pub form: ForgedForm,
    pub tamper: Tamper,
}

impl Forgery {
    /// The case-language name (`consent = "..."`).
    pub fn name(self) -> &'static str {
        match (self.form, self.tamper) {
            (ForgedForm::Login, Tamper::Remove) => "login_without_csrf",
            (ForgedForm::Login, Tamper::Alter) => "login_with_wrong_csrf",
            (ForgedForm::Consent, Tamper::Remove) => "approve_without_csrf",
            (ForgedForm::Consent, Tamper::Alter) => "approve_with_wrong_csrf",
        }
    }

    /// The page whose form is forged.
    pub fn role(self) -> PageRole {
        match self.form {
            ForgedForm::Login => PageRole::Login,
            ForgedForm::Consent => PageRole::Consent,
        }
    }

    fn page(self) -> &'static str {
        match self.form {
            ForgedForm::Login => "login",
            ForgedForm::Consent => "consent",
        }
    }

    /// "the login form posted without its CSRF value", for messages.
    pub fn what(self) -> String {
        let how = match self.tamper {
            Tamper::Remove => "without its CSRF value",
            Tamper::Alter => "with a wrong CSRF value",
        };
        format!("the {} form posted {how}", self.page())
    }
}

/// Anti-CSRF field names of common frameworks (compared case-insensitively): Spring Security
/// and Express `_csrf`, Django `csrfmiddlewaretoken`, Rails `authenticity_token`, ASP.NET
/// `__RequestVerificationToken`, Laravel `_token`, Tornado `_xsrf`, Ory `csrf_token`, ...
pub const USUAL_NAMES: &[&str] = &[
    "csrf",
    "_csrf",
    "csrf_token",
    "_csrf_token",
    "csrftoken",
    "csrfmiddlewaretoken",
    "xsrf",
    "_xsrf",
    "xsrf_token",
    "authenticity_token",
    "__requestverificationtoken",
    "_token",
    "anti_forgery_token",
    "antiforgery",
];

fn is_usual_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    USUAL_NAMES.contains(&lower.as_str()) || lower.contains("csrf") || lower.contains("xsrf")
}

/// The anti-CSRF fields of a form: every field named `declared` (the profile's `csrf_field`,
/// case-insensitively), else the hidden fields with a usual name.
pub fn csrf_fields(form: &Form, declared: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = match declared {
        Some(d) => form
            .fields
            .iter()
            .map(|(n, _)| n)
            .filter(|n| n.eq_ignore_ascii_case(d))
            .cloned()
            .collect(),
        None => form
            .hidden
            .iter()
            .filter(|n| is_usual_name(n))
            .cloned()
            .collect(),
    };
    names.dedup();
    names
}

/// The values of the form's anti-CSRF fields ([`csrf_fields`]), non-empty ones.
pub fn csrf_values(form: &Form, declared: Option<&str>) -> Vec<String> {
    let names = csrf_fields(form, declared);
    form.fields
        .iter()
        .filter(|(n, v)| !v.is_empty() && names.contains(n))
        .map(|(_, v)| v.clone())
        .collect()
}

/// The profile's `csrf_field` (the `form` driver's setting).
pub fn declared_field(target: &Target) -> Option<&str> {
    match &target.profile.consent {
        Consent::Form { csrf_field, .. } => csrf_field.as_deref(),
        _ => None,
    }
}

/// A value that differs from `v` at every ASCII letter and digit, of the same length and
/// alphabet, so that a server comparing only the length, a prefix or the character set still
/// sees a wrong value. A value with no letter or digit becomes `forged`.
pub fn altered(v: &str) -> String {
    if !v.chars().any(|c| c.is_ascii_alphanumeric()) {
        return "forged".into();
    }
    v.chars()
        .map(|c| match c {
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            c if c.is_ascii_alphanumeric() => (c as u8 + 1) as char,
            c => c,
        })
        .collect()
}

/// Applies the tamper to the form's anti-CSRF fields; returns the values that travelled or
/// were withheld (secrets to redact), or `Err` with the reason the form cannot be forged.
pub fn tamper(
    form: &mut Form,
    forgery: Forgery,
    declared: Option<&str>,
) -> Result<Vec<String>, String> {
    let names = csrf_fields(form, declared);
    if names.is_empty() {
        return Err(no_field(form, forgery, declared));
    }
    let mut secrets = Vec::new();
    for name in &names {
        let values: Vec<String> = form
            .fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect();
        match forgery.tamper {
            Tamper::Remove => form.remove(name),
            Tamper::Alter => {
                let wrong = altered(values.first().map(String::as_str).unwrap_or_default());
                form.remove(name);
                form.fill(name, &wrong);
                secrets.push(wrong);
            }
        }
        secrets.extend(values);
    }
    secrets.retain(|s| !s.is_empty());
    Ok(secrets)
}

/// Why a form cannot be forged: no anti-CSRF field recognised; names the field names seen
/// (never their values) and what to declare.
fn no_field(form: &Form, forgery: Forgery, declared: Option<&str>) -> String {
    let names: Vec<&str> = form.fields.iter().map(|(n, _)| n.as_str()).collect();
    match declared {
        Some(d) => format!(
            "the {} form ({} {}) has no field named {d:?} (consent.csrf_field); its fields: [{}]",
            forgery.page(),
            form.method,
            form.action,
            names.join(", ")
        ),
        None => format!(
            "the {} form ({} {}) has no hidden field named like an anti-CSRF token ({}, or a name \
             containing csrf/xsrf); its fields: [{}]. A target protecting its forms otherwise \
             (SameSite cookies, Origin checks) does not apply; one whose field has another name \
             declares it as `csrf_field` in the profile's [consent]",
            forgery.page(),
            form.method,
            form.action,
            USUAL_NAMES.join(", "),
            names.join(", ")
        ),
    }
}

/// How far the forgery got in one authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The form to forge has not been shown yet.
    Pending,
    /// The forged post was sent; the next answer of the AS decides.
    Sent,
    /// The AS took the forged login and went on (to the consent page or a code).
    Accepted,
}

/// The forgery of one authorization and its progress.
#[derive(Debug, Clone)]
pub struct Forging {
    pub forgery: Forgery,
    pub stage: Stage,
}

impl Forging {
    pub fn new(forgery: Forgery) -> Forging {
        Forging {
            forgery,
            stage: Stage::Pending,
        }
    }

    /// The AS answered the forged post with a page of `role` (`None`: a page with no form, an
    /// error page): true when that is a refusal, recorded in `outcome`; false when the AS took
    /// the forged login and shows the consent page, or shows a page between the steps (the
    /// driver goes on and approves).
    pub fn answered_with_page(
        &mut self,
        role: Option<PageRole>,
        status: u16,
        url: &url::Url,
        outcome: &mut AuthzOutcome,
    ) -> bool {
        let what = self.forgery.what();
        let shown = match role {
            Some(r) if r == self.forgery.role() => {
                format!("showed the {} page again", self.forgery.page())
            }
            Some(PageRole::Login) => "sent the user back to the login page".into(),
            Some(PageRole::Consent) => {
                // The forged login was taken: the AS went on to the consent page.
                self.stage = Stage::Accepted;
                outcome.note = Some(format!(
                    "the AS accepted {what} and showed the consent page; the driver approved it"
                ));
                return false;
            }
            // A page between the steps (a rule of role `other`): not an answer yet.
            Some(PageRole::Other) => return false,
            None => "answered with a page without a form".into(),
        };
        outcome.refusal = Some(format!(
            "the AS refused {what}: it {shown} (status {status}, {url})"
        ));
        true
    }

    /// The AS answered the forged post with a non-page response (an error status, JSON).
    pub fn answered_with_status(
        &self,
        status: u16,
        url: &url::Url,
        error: Option<&str>,
        outcome: &mut AuthzOutcome,
    ) {
        outcome.refusal = Some(format!(
            "the AS refused {}: status {status} at {url}{}",
            self.forgery.what(),
            error.map(|e| format!(", error={e}")).unwrap_or_default()
        ));
    }

    /// A note for the final redirect after the forged post.
    pub fn note_redirect(&self, outcome: &mut AuthzOutcome) {
        if self.stage == Stage::Sent && outcome.note.is_none() {
            outcome.note = Some(format!("after {}", self.forgery.what()));
        }
    }

    /// The authorization ended: when the forged post was never sent, the case cannot be judged.
    pub fn conclude(&self, outcome: &mut AuthzOutcome) -> Result<(), String> {
        if self.stage != Stage::Pending || outcome.not_applicable.is_some() {
            return Ok(());
        }
        let code = outcome.param("code").is_some();
        match self.forgery.form {
            ForgedForm::Login if code => {
                outcome.not_applicable = Some(
                    "no login page was shown (the AS issued a code without one), so there was no login form to forge"
                        .into(),
                );
                Ok(())
            }
            ForgedForm::Consent if code => Err(format!(
                "no consent page appeared, so there was no consent form to forge (a stored consent?): {}",
                outcome.describe()
            )),
            _ => Err(format!(
                "the authorization ended before the {} page was shown, so no form was forged: {}",
                self.forgery.page(),
                outcome.describe()
            )),
        }
    }
}

#[cfg(test)]
mod tests;
