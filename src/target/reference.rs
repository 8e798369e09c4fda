//! The built-in profiles `reference` (auto-consent), `reference-form` (real login and consent
//! pages, `form` driver) and `reference-browser` (pages built by JavaScript, `browser` driver in
//! headless Chromium): the bundled reference server started in-process on an ephemeral loopback
//! port, with the test-control API on.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use obo_reference_server::fault::Fault;

use super::{resolve, HttpOverrides, ProfileError, Target};

/// Names accepted by `--target` for the built-in profiles.
pub const BUILTIN: &[&str] = &["reference", "reference-form", "reference-browser"];

const AUTO: &str = include_str!("reference-auto.toml");
const FORM: &str = include_str!("reference-form.toml");
const BROWSER: &str = include_str!("reference-browser.toml");

/// How to start the in-process reference server.
#[derive(Debug, Clone, Default)]
pub struct ReferenceOptions {
    /// Real login and consent pages driven by the `form` driver (`reference-form`).
    pub form: bool,
    /// Login and consent pages built by script (`consent_ui = "spa"`); with `form`.
    pub spa: bool,
    /// The `browser` driver (headless Chromium) instead of the `form` driver; with `form`.
    pub browser: bool,
    /// Fault switches (the self-check runs the catalogue once per fault).
    pub faults: Vec<Fault>,
    /// Added to every response (benchmarks).
    pub latency: Duration,
    /// Draft revision: "00", "01" or "02" (default "02").
    pub revision: Option<String>,
}

impl ReferenceOptions {
    /// Options for a built-in profile name (`reference`, `reference-form`, `reference-browser`).
    pub fn for_name(name: &str) -> Option<ReferenceOptions> {
        match name {
            "reference" => Some(ReferenceOptions::default()),
            "reference-form" => Some(ReferenceOptions {
                form: true,
                ..Default::default()
            }),
            "reference-browser" => Some(ReferenceOptions {
                form: true,
                spa: true,
                browser: true,
                ..Default::default()
            }),
            _ => None,
        }
    }
}

/// Owns the in-process server; [`ServerGuard::shutdown`] stops it (idempotent).
pub struct ServerGuard {
    handle: tokio::sync::Mutex<Option<obo_reference_server::Handle>>,
}

impl ServerGuard {
    pub async fn shutdown(&self) {
        if let Some(h) = self.handle.lock().await.take() {
            h.shutdown().await;
        }
    }
}

fn revision(r: &str) -> Result<obo_reference_server::Revision, ProfileError> {
    use obo_reference_server::Revision;
    match r {
        "00" => Ok(Revision::R00),
        "01" => Ok(Revision::R01),
        "02" => Ok(Revision::R02),
        other => Err(ProfileError::Field {
            file: "reference".into(),
            field: "revision".into(),
            msg: format!("{other:?} is not one of 00, 01, 02"),
        }),
    }
}

/// Starts the reference server and resolves the matching built-in profile against it.
pub async fn reference(opts: ReferenceOptions) -> Result<Target, ProfileError> {
    reference_with(opts, &HttpOverrides::default()).await
}

/// [`reference`] with command-line HTTP settings applied before discovery.
pub async fn reference_with(
    opts: ReferenceOptions,
    overrides: &HttpOverrides,
) -> Result<Target, ProfileError> {
    let rev = opts.revision.clone().unwrap_or_else(|| "02".into());
    let config = obo_reference_server::Config {
        auto_consent: if opts.form {
            None
        } else {
            Some("alice".into())
        },
        control_api: true,
        faults: opts.faults.clone(),
        latency: opts.latency,
        revision: revision(&rev)?,
        consent_ui: if opts.form && opts.spa {
            obo_reference_server::ConsentUi::Spa
        } else {
            obo_reference_server::ConsentUi::Html
        },
        ..Default::default()
    };
    let handle = obo_reference_server::spawn(config)
        .await
        .map_err(|e| ProfileError::Unreachable(format!("reference server did not start: {e}")))?;
    let base = handle.base_url();
    let guard = Arc::new(ServerGuard {
        handle: tokio::sync::Mutex::new(Some(handle)),
    });
    // The digest covers the template, revision and faults, not the ephemeral port, so two runs
    // of the same built-in profile compare equal.
    let name = match (opts.form, opts.spa, opts.browser) {
        (false, _, _) => "reference",
        (true, _, true) => "reference-browser",
        (true, false, false) => "reference-form",
        // The form driver against pages built by script: it cannot drive them (a check that the
        // driver says so).
        (true, true, false) => "reference-form-spa",
    };
    let source = match name {
        "reference" => AUTO,
        "reference-browser" => BROWSER,
        _ => FORM,
    };
    let mut template = source
        .replace("@REVISION@", &rev)
        .replace("name = \"reference-form\"", &format!("name = \"{name}\""));
    if !opts.faults.is_empty() {
        let names: Vec<&str> = opts.faults.iter().map(|f| f.name()).collect();
        template.push_str(&format!("\n# faults: {}\n", names.join(", ")));
    }
    let text = template.replace("@BASE@", &base);
    let profile = match super::parse(&text, name, Path::new(".")) {
        Ok(mut p) => {
            overrides.apply(&mut p.http);
            p
        }
        Err(e) => {
            guard.shutdown().await;
            return Err(e);
        }
    };
    match resolve(profile, &template, Some(guard.clone())).await {
        Ok(t) => Ok(t),
        Err(e) => {
            guard.shutdown().await;
            Err(e)
        }
    }
}
