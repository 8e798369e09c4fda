//! Renders every artefact from an existing report.json:
//! `cargo run -p obo-report --example render -- [--normalize] report.json OUT_DIR`.
//! `--normalize` first zeroes timestamps and durations (see `obo_report::normalize`).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let normalize = args.first().is_some_and(|a| a == "--normalize");
    if normalize {
        args.remove(0);
    }
    let [input, out] = args.as_slice() else {
        eprintln!("usage: render [--normalize] REPORT.json OUT_DIR");
        return ExitCode::from(3);
    };
    let result = obo_report::read_report(&PathBuf::from(input)).and_then(|mut report| {
        if normalize {
            obo_report::normalize(&mut report);
        }
        obo_report::write_all(&report, &PathBuf::from(out))
    });
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
