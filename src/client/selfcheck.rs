//! `obo-conformance client --selfcheck`: the client scenarios check themselves against the
//! reference agent client. The clean client must pass every scenario; each of its fault
//! switches (`<command> --list-faults`: one `NAME REQ,REQ` line each) must be caught — a
//! scenario that passed clean fails or warns under the fault *and* cites one of the requirement
//! IDs the fault breaks. A fault caught only by unrelated scenarios is not caught.

use std::collections::BTreeSet;
use std::sync::Arc;

use obo_report::Verdict;

use super::driver::ClientUnderTest;
use super::scenario::Scenario;
use super::{caught, run_scenario, Options};

/// One fault switch of the client and what it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFault {
    pub name: String,
    pub requirements: Vec<String>,
}

/// The outcome for one fault.
#[derive(Debug, Clone)]
pub struct FaultRow {
    pub fault: ClientFault,
    /// Scenarios that caught it and cite one of its requirements.
    pub relevant: Vec<String>,
    /// Scenarios that caught it without citing its requirements (informative).
    pub unrelated: Vec<String>,
    /// Scenarios that errored under the fault (informative: not catches).
    pub errored: Vec<String>,
}

/// The whole selfcheck.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Scenarios that did not pass against the clean client: (ID, verdict, message).
    pub clean_problems: Vec<(String, Verdict, String)>,
    pub rows: Vec<FaultRow>,
}

impl Outcome {
    pub fn uncaught(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|r| r.relevant.is_empty())
            .map(|r| r.fault.name.as_str())
            .collect()
    }

    pub fn ok(&self) -> bool {
        self.clean_problems.is_empty() && self.uncaught().is_empty() && !self.rows.is_empty()
    }
}

/// Parses `--list-faults` output: `NAME REQ[,REQ...]` per line.
pub fn parse_fault_list(text: &str) -> Result<Vec<ClientFault>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, reqs)) = line.split_once(char::is_whitespace) else {
            return Err(format!(
                "--list-faults line {}: expected `NAME REQ,REQ`, got {line:?}",
                i + 1
            ));
        };
        let ok_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok_name {
            return Err(format!(
                "--list-faults line {}: bad fault name {name:?}",
                i + 1
            ));
        }
        out.push(ClientFault {
            name: name.to_string(),
            requirements: reqs
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect(),
        });
    }
    if out.is_empty() {
        return Err("--list-faults printed no fault".into());
    }
    Ok(out)
}

/// Asks the client for its fault switches.
pub async fn list_faults(line: &str) -> Result<Vec<ClientFault>, String> {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{line} --list-faults"))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), out)
        .await
        .map_err(|_| "`--list-faults` did not finish within 120 s".to_string())?
        .map_err(|e| format!("cannot run `{line} --list-faults`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{line} --list-faults` exited with {}", out.status));
    }
    parse_fault_list(&String::from_utf8_lossy(&out.stdout))
}

fn with_command(opts: &Options, line: String) -> Options {
    let mut o = opts.clone();
    // Fault runs go in parallel: each takes a free port.
    o.port = 0;
    if let ClientUnderTest::Command { timeout, .. } = &opts.client {
        o.client = ClientUnderTest::Command {
            line,
            timeout: *timeout,
        };
    }
    o
}

/// Runs the clean client, then each fault (`jobs` faults at once).
pub async fn run(
    scenarios: &[Scenario],
    line: &str,
    opts: &Options,
    jobs: usize,
) -> Result<Outcome, String> {
    let faults = list_faults(line).await?;
    let clean_opts = with_command(opts, line.to_string());
    let mut clean_problems = Vec::new();
    let mut passed_clean = BTreeSet::new();
    for s in scenarios {
        let r = run_scenario(s, &clean_opts).await;
        if r.verdict == Verdict::Pass {
            passed_clean.insert(s.id.clone());
        } else {
            clean_problems.push((s.id.clone(), r.verdict, r.message));
        }
    }
    let scenarios = Arc::new(scenarios.to_vec());
    let passed_clean = Arc::new(passed_clean);
    let gate = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, fault) in faults.into_iter().enumerate() {
        let o = with_command(opts, format!("{line} --fault {}", fault.name));
        let (scenarios, passed_clean, gate) =
            (scenarios.clone(), passed_clean.clone(), gate.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let mut row = FaultRow {
                fault,
                relevant: Vec::new(),
                unrelated: Vec::new(),
                errored: Vec::new(),
            };
            for s in scenarios.iter() {
                let r = run_scenario(s, &o).await;
                if r.verdict == Verdict::Error {
                    row.errored.push(s.id.clone());
                }
                if !caught(r.verdict) || !passed_clean.contains(&s.id) {
                    continue;
                }
                let cites = s.all_requirements();
                if row.fault.requirements.iter().any(|q| cites.contains(q)) {
                    row.relevant.push(s.id.clone());
                } else {
                    row.unrelated.push(s.id.clone());
                }
            }
            (i, row)
        });
    }
    let mut rows = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(r) => rows.push(r),
            Err(e) => return Err(format!("a fault run panicked: {e}")),
        }
    }
    rows.sort_by_key(|(i, _)| *i);
    Ok(Outcome {
        clean_problems,
        rows: rows.into_iter().map(|(_, r)| r).collect(),
    })
}

/// The terminal summary.
pub fn render(o: &Outcome) -> String {
    let mut s = String::new();
    if o.clean_problems.is_empty() {
        s.push_str("clean client: every scenario passes\n");
    } else {
        for (id, v, m) in &o.clean_problems {
            s.push_str(&format!("clean client: {id} {v:?}: {m}\n"));
        }
    }
    s.push_str("\nclient fault: relevant catchers (+unrelated)\n");
    for r in &o.rows {
        let mut line = format!(
            "  {:<22} [{}] {}",
            r.fault.name,
            r.fault.requirements.join(","),
            if r.relevant.is_empty() {
                "UNCAUGHT".to_string()
            } else {
                r.relevant.join(", ")
            }
        );
        if !r.unrelated.is_empty() {
            line.push_str(&format!(" (+{})", r.unrelated.join(", ")));
        }
        s.push_str(&line);
        s.push('\n');
    }
    let uncaught = o.uncaught();
    s.push_str(&if o.ok() {
        format!("\nall {} client faults caught\n", o.rows.len())
    } else if uncaught.is_empty() {
        "\nthe clean client does not pass every scenario\n".to_string()
    } else {
        format!("\nuncaught client faults: {}\n", uncaught.join(", "))
    });
    s
}

/// The `--selfcheck` command: prints the summary; 0 when clean passes and every fault is caught.
pub async fn command(scenarios: &[Scenario], line: &str, opts: &Options, jobs: usize) -> i32 {
    match run(scenarios, line, opts, jobs).await {
        Ok(o) => {
            print!("{}", render(&o));
            if o.ok() {
                0
            } else {
                1
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fault_lists() {
        let f = parse_fault_list("no-state OBO-AUTHZ-7\npkce-none OBO-AUTHZ-8,OBO-SEC-2\n")
            .expect("valid list");
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].requirements, vec!["OBO-AUTHZ-8", "OBO-SEC-2"]);
        assert!(parse_fault_list("").is_err());
        assert!(parse_fault_list("Bad_Name X").is_err());
        assert!(parse_fault_list("lonely").is_err());
    }
}
