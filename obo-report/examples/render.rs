//! Renders every artefact from an existing report.json and, with `--expect`, judges the run
//! against an expectations file the way CI does (exit code of `Evaluation::exit_code`):
//!
//! `cargo run -p obo-report --example render -- [--normalize] [--expect FILE] report.json OUT_DIR`
//!
//! `--normalize` first zeroes timestamps and durations (see `obo_report::normalize`).

use std::path::PathBuf;
use std::process::ExitCode;

use obo_report::baseline::{evaluate, Baseline};

fn main() -> ExitCode {
    let mut normalize = false;
    let mut expect = None;
    let mut positional = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--normalize" => normalize = true,
            "--expect" => expect = args.next().map(PathBuf::from),
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    let [input, out] = positional.as_slice() else {
        eprintln!("usage: render [--normalize] [--expect FILE] REPORT.json OUT_DIR");
        return ExitCode::from(3);
    };
    let mut report = match obo_report::read_report(input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(3);
        }
    };
    if normalize {
        obo_report::normalize(&mut report);
    }
    match obo_report::write_all(&report, out) {
        Ok(paths) => paths.iter().for_each(|p| println!("{}", p.display())),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    }
    let Some(path) = expect else {
        return ExitCode::SUCCESS;
    };
    let baseline = match Baseline::load(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(3);
        }
    };
    let eval = evaluate(&report, &baseline, time::OffsetDateTime::now_utc().date());
    eprint!("{}", eval.render_text());
    ExitCode::from(u8::try_from(eval.exit_code()).unwrap_or(2))
}
