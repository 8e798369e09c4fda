//! The report model: what one run of the suite observed. Serialised as `report.json`
//! (schema: reports/schema/report.schema.json, version [`SCHEMA_VERSION`]). Every other
//! artefact (HTML, Markdown, JUnit, SARIF, diff, matrix) is rendered from this alone.

use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change of the JSON shape.
pub const SCHEMA_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: String,
    /// Version of the obo-conformance suite that produced the report.
    pub suite_version: String,
    pub target: Target,
    /// Seed all randomness of the run came from (printed at start, replays the run).
    pub seed: u64,
    /// True when `--strict` narrowed acceptable outcomes to the preferred reading.
    pub strict: bool,
    /// RFC 3339 UTC.
    pub started_at: String,
    pub duration_ms: u64,
    pub summary: Summary,
    pub cases: Vec<CaseResult>,
    /// Requirement texts for every requirement a case cites (ID -> entry), so that reports can
    /// show the requirement without the catalogue at hand.
    #[serde(default)]
    pub requirements: std::collections::BTreeMap<String, RequirementInfo>,
    /// The draft's ambiguities (AMB-* of the digest) that the readings of the cases illustrate
    /// (ID -> question and the suite's recommended reading), so that `interop` needs no
    /// catalogue at hand.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub ambiguities: std::collections::BTreeMap<String, AmbiguityInfo>,
    /// What the run found out about the target as a whole, one cause per finding, with the
    /// cases it explains ("the target answers errors with status 200: 33 cases fail for this
    /// one reason"). Shown at the head of every report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnosis: Vec<Finding>,
    /// How the run was invoked, as far as it decides what the target was asked (the built-in
    /// target's faults and options included): what a replay line needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<Invocation>,
    /// Case ID -> the command line (argv, `obo-conformance` first) that runs that case again
    /// with the same target, options and seed; for every case that did not pass or skip.
    /// Filled by [`crate::fill_replay`] before the artefacts are written.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub replay: std::collections::BTreeMap<String, Vec<String>>,
    /// The run judged against an expectations file (`--expectations`): which results were
    /// known, which were not, which entries are stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expectations: Option<Judgement>,
}

/// The command-line options of a run that decide what the target was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    /// `--target` as given: a profile file's path, or the name of a built-in profile.
    pub target: String,
    /// `target` names a built-in profile (the in-process reference server).
    #[serde(default)]
    pub builtin: bool,
    /// Built-in targets: the reference server's faults (`--fault`), in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
    /// Built-in targets: the draft revision asked for with `--revision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Built-in targets: latency added to every response (`--latency-ms`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub latency_ms: u64,
    /// `--timeout` (seconds per request), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// `--allow-cross-origin`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_cross_origin: bool,
    /// The catalogue folder (`--cases-dir` or OBO_CASES_DIR) when not the built-in catalogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cases_dir: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A run judged against an expectations file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The expectations file as given on the command line.
    pub file: String,
    /// Case ID -> how its result compares with the file; cases that passed or skipped without
    /// an entry are absent.
    pub cases: std::collections::BTreeMap<String, CaseExpectation>,
    /// Entries that no longer describe the target: the case now passes, no such case ran, or
    /// the entry expired. Each fails the gate.
    #[serde(default)]
    pub stale: Vec<crate::baseline::Stale>,
}

/// One case's result under the expectations file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseExpectation {
    pub status: ExpectationStatus,
    /// The entry's verdict; absent when the file has no entry for the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Verdict>,
    /// The entry's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpectationStatus {
    /// The result is the entry's: a known failure (CI stays green).
    Expected,
    /// A fail or error without an entry, or a result other than the entry's.
    Unexpected,
    /// The entry expected a failure and the case now passes: remove the entry.
    NowPasses,
    /// A SHOULD-level miss without an entry: shown, CI stays green.
    UnlistedWarning,
}

impl Report {
    /// A fail or error the expectations file lists with that verdict (a known failure).
    pub fn is_known_failure(&self, case: &CaseResult) -> bool {
        matches!(case.verdict, Verdict::Fail | Verdict::Error)
            && self
                .expectations
                .as_ref()
                .is_some_and(|j| j.is_expected(&case.id))
    }
}

impl Judgement {
    /// Cases known to fail or error (their entry's verdict), the N of "passed with N expected
    /// failures".
    pub fn expected_failures(&self, report: &Report) -> usize {
        report
            .cases
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Error))
            .filter(|c| self.is_expected(&c.id))
            .count()
    }

    /// The case's result is the one its entry expects.
    pub fn is_expected(&self, id: &str) -> bool {
        self.cases
            .get(id)
            .is_some_and(|c| c.status == ExpectationStatus::Expected)
    }
}

/// One diagnosis of the target: a cause and the cases whose verdict it explains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub message: String,
    pub cases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Profile name (`reference` for the built-in one).
    pub name: String,
    /// Issuer or base URL the run was driven against.
    pub issuer: String,
    /// Draft revision the profile declares: "00", "01" or "02".
    pub revision: String,
    /// SHA-256 (hex) of the profile as loaded, secrets included, so two runs can be
    /// compared without revealing the profile.
    pub profile_digest: String,
    /// Capabilities the target declared (sorted).
    #[serde(default)]
    pub capabilities: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub passed: u32,
    pub failed: u32,
    pub warned: u32,
    pub skipped: u32,
    pub errors: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// A MUST-level expectation was not met by the target.
    Fail,
    /// A SHOULD-level expectation was not met by the target.
    Warn,
    /// Not applicable to this target (missing capability, revision); `message` says why.
    Skip,
    /// The harness could not drive the target; never counted as the target's failure.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MAY")]
    May,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub title: String,
    pub verdict: Verdict,
    /// Requirement IDs the case cites (OBO-*, OBO-INH-*).
    pub requirements: Vec<String>,
    /// Adversarial scenario IDs (ADV-*) the case exercises, if any.
    #[serde(default)]
    pub scenarios: Vec<String>,
    pub level: Level,
    #[serde(default)]
    pub tags: Vec<String>,
    /// One line: why this verdict (for skip: the reason; for fail: expected vs actual).
    pub message: String,
    /// Each expectation checked, in order, with what was expected and what was observed.
    #[serde(default)]
    pub checks: Vec<Check>,
    pub duration_ms: u64,
    /// Every HTTP exchange of the case, secrets redacted.
    #[serde(default)]
    pub transcript: Vec<Exchange>,
    /// Where the case accepts several outcomes for an ambiguity of the draft: which one the
    /// target chose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<Reading>,
}

/// The outcome a target chose where the draft allows several (an AMB-* reading of the digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// The ambiguity the step illustrates, e.g. "AMB-14".
    pub ambiguity: String,
    /// Step index (0-based) whose response gave the reading.
    pub step: usize,
    /// Index into `alternatives` of the outcome observed (0 is the recommended reading); `None`
    /// when no accepted outcome held.
    pub chosen: Option<usize>,
    /// The outcome observed: the chosen alternative's label, else what the target did.
    pub outcome: String,
    /// Labels of the accepted outcomes, the recommended one first.
    pub alternatives: Vec<String>,
}

impl Reading {
    /// The target followed the suite's recommended reading.
    pub fn is_recommended(&self) -> bool {
        self.chosen == Some(0)
    }
}

/// One ambiguity of the draft: the question it leaves open and the reading the suite recommends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmbiguityInfo {
    pub question: String,
    pub recommended: String,
}

impl CaseResult {
    /// The requirement IDs the case's failed checks verify (each check carries its own), in
    /// order of first appearance; the case's own list when no failed check names one.
    pub fn failed_requirements(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in self.checks.iter().filter(|c| !c.ok) {
            for r in &c.requirements {
                if !out.contains(&r.as_str()) {
                    out.push(r);
                }
            }
        }
        if out.is_empty() {
            out = self.requirements.iter().map(String::as_str).collect();
        }
        out
    }

    /// The strongest level among the failed checks, if any failed.
    pub fn failed_level(&self) -> Option<Level> {
        let rank = |l: &Level| match l {
            Level::Must => 3,
            Level::Should => 2,
            Level::May => 1,
        };
        self.checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.level)
            .max_by_key(rank)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Step index (0-based) the check belongs to.
    pub step: usize,
    /// Short name, e.g. "status", "error", "claim act.sub", "no-store".
    pub name: String,
    pub expected: String,
    pub actual: String,
    pub ok: bool,
    /// Level the check counts at (a MUST case may carry an advisory SHOULD check).
    pub level: Level,
    #[serde(default)]
    pub requirements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// Step index (0-based) that sent the request.
    pub step: usize,
    pub request: HttpRequest,
    /// None when no response came (timeout, connection error: see `error`).
    pub response: Option<HttpResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    /// Header name/value pairs in order, redacted.
    pub headers: Vec<(String, String)>,
    /// Body as text (form-encoded or JSON), redacted; None when empty.
    pub body: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body as text, redacted and truncated to a few KiB (`truncated` says so).
    pub body: Option<String>,
    #[serde(default)]
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequirementInfo {
    pub section: String,
    pub level: String,
    pub text: String,
}

impl Summary {
    pub fn count(&mut self, v: Verdict) {
        match v {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::Warn => self.warned += 1,
            Verdict::Skip => self.skipped += 1,
            Verdict::Error => self.errors += 1,
        }
    }

    pub fn of(cases: &[CaseResult]) -> Summary {
        let mut s = Summary::default();
        for c in cases {
            s.count(c.verdict);
        }
        s
    }
}

/// Joins the reports of the shards of one run (same target, seed, strictness and suite) into
/// the report of the whole run: cases sorted by ID, as an unsharded run lists them; the
/// summary recounted; `started_at` the earliest, `duration_ms` the longest shard (they run at
/// once). Errors name the report that does not fit, or a case two shards both ran.
pub fn merge(reports: Vec<Report>) -> Result<Report, String> {
    let mut it = reports.into_iter();
    let mut out = it.next().ok_or("merge: no report given")?;
    for (k, r) in it.enumerate() {
        let k = k + 2;
        let fits = [
            // The issuer may differ: a built-in target listens on a fresh port per process.
            (
                "target",
                Target {
                    issuer: out.target.issuer.clone(),
                    ..r.target.clone()
                } == out.target,
            ),
            ("seed", out.seed == r.seed),
            ("strict", out.strict == r.strict),
            ("suite_version", out.suite_version == r.suite_version),
            ("schema_version", out.schema_version == r.schema_version),
        ];
        if let Some((what, _)) = fits.iter().find(|(_, ok)| !ok) {
            return Err(format!(
                "merge: report {k} differs from the first in {what}: not a shard of the same run"
            ));
        }
        if r.started_at < out.started_at {
            out.started_at = r.started_at;
        }
        out.duration_ms = out.duration_ms.max(r.duration_ms);
        out.cases.extend(r.cases);
        out.requirements.extend(r.requirements);
        out.ambiguities.extend(r.ambiguities);
        out.replay.extend(r.replay);
    }
    // A shard judged alone sees the entries of other shards' cases as unknown: the merged run
    // is judged again as a whole (`render --expectations`), never from the shards' judgements.
    out.expectations = None;
    out.cases.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(w) = out.cases.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(format!(
            "merge: case {} is in two reports: the shards overlap",
            w[0].id
        ));
    }
    out.summary = Summary::of(&out.cases);
    Ok(out)
}
