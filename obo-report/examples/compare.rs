//! `diff` and `matrix` over report.json files, until the CLI carries them:
//!
//! `cargo run -p obo-report --example compare -- diff A.json B.json` (exit 1 on a regression)
//! `cargo run -p obo-report --example compare -- matrix OUT.html|OUT.md A.json B.json ...`

use std::path::PathBuf;
use std::process::ExitCode;

use obo_report::{diff, matrix, read_report, Report};

fn load(paths: &[String]) -> Result<Vec<Report>, obo_report::ReportError> {
    paths
        .iter()
        .map(|p| read_report(&PathBuf::from(p)))
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((cmd, rest)) if cmd == "diff" && rest.len() == 2 => load(rest).map(|r| {
            let d = diff::diff(&r[0], &r[1]);
            print!("{}", d.render_text());
            d.exit_code()
        }),
        Some((cmd, rest)) if cmd == "matrix" && rest.len() >= 2 => {
            let out = PathBuf::from(&rest[0]);
            load(&rest[1..]).and_then(|r| {
                let text = if out.extension().is_some_and(|e| e == "md") {
                    matrix::render_md(&r)
                } else {
                    matrix::render_html(&r)?
                };
                std::fs::write(&out, text).map_err(|source| obo_report::ReportError::Write {
                    path: out.clone(),
                    source,
                })?;
                Ok(0)
            })
        }
        _ => {
            eprintln!(
                "usage: compare diff A.json B.json | compare matrix OUT.html A.json B.json ..."
            );
            return ExitCode::from(3);
        }
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(2)),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(3)
        }
    }
}
