//! Renders every artefact from an existing report.json:
//! `cargo run -p obo-report --example render -- report.json OUT_DIR`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out] = args.as_slice() else {
        eprintln!("usage: render REPORT.json OUT_DIR");
        return ExitCode::from(3);
    };
    let result = obo_report::read_report(&PathBuf::from(input))
        .and_then(|report| obo_report::write_all(&report, &PathBuf::from(out)));
    match result {
        Ok(paths) => {
            for p in paths {
                println!("{}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
