//! The selfcheck as a test (issue 6, item 1): the catalogue passes against the clean reference
//! server and catches every fault with a relevant case; removing the only relevant killer of a
//! fault makes the selfcheck report that fault.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use obo_conformance::catalog::{self, Catalog};
use obo_conformance::selfcheck::{self, Options, Selfcheck, Status};
use obo_reference_server::fault::Fault;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("tokio runtime")
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

fn catalog() -> Catalog {
    catalog::load(&cases_dir()).expect("the catalogue loads")
}

/// The full selfcheck, computed once for every test of this file.
fn full() -> &'static Selfcheck {
    static FULL: OnceLock<Selfcheck> = OnceLock::new();
    FULL.get_or_init(|| {
        let cat = catalog();
        let s = runtime().block_on(selfcheck::run(&cat, &cat.cases, &Options::default()));
        eprintln!("{}", selfcheck::render_text(&s));
        s
    })
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obo-selfcheck-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create scratch dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy file");
        }
    }
}

#[test]
fn selfcheck_passes_and_catches_every_fault_with_a_relevant_case() {
    let s = full();
    assert!(s.ok(), "selfcheck failures:\n{}", s.failures().join("\n"));
    assert_eq!(s.faults.len(), Fault::ALL.len());
    assert!(s.clean.passed > 0 && s.clean.problems.is_empty());
    for row in &s.faults {
        assert_eq!(row.status, Status::Caught, "{}", row.fault);
        let fault = Fault::from_name(&row.fault).expect("a known fault");
        let cat = catalog();
        // Each named relevant killer really cites a requirement the fault breaks.
        for killer in &row.relevant {
            let case = cat.case(&killer.id).expect("killer is a catalogue case");
            assert!(
                case.requirements
                    .iter()
                    .any(|r| fault.requirements().contains(&r.as_str())),
                "{} is listed as a relevant killer of {} but cites none of {:?}",
                killer.id,
                row.fault,
                fault.requirements()
            );
        }
    }
}

#[test]
fn kill_matrix_files_name_every_fault_and_its_killers() {
    let s = full();
    let out = scratch("files");
    selfcheck::write(s, &out).expect("write kill matrix");
    let md = std::fs::read_to_string(out.join("kill-matrix.md")).expect("kill-matrix.md");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("kill-matrix.json")).expect("kill-matrix.json"),
    )
    .expect("valid JSON");
    for row in &s.faults {
        assert!(
            md.contains(&format!("`{}`", row.fault)),
            "{} missing from kill-matrix.md",
            row.fault
        );
        let first = &row.relevant[0].id;
        assert!(md.contains(first.as_str()));
    }
    assert_eq!(
        json["faults"].as_array().map(Vec::len),
        Some(s.faults.len())
    );
    assert_eq!(json["faults"][0]["status"], "caught");
    let _ = std::fs::remove_dir_all(&out);
}

/// The "done when": removing the case file that alone catches a fault (computed from
/// the kill matrix) makes the selfcheck report that fault.
#[test]
fn removing_the_only_relevant_killer_reports_the_fault() {
    let s = full();
    // The fault with the fewest relevant killers; normally exactly one.
    let row = s
        .faults
        .iter()
        .filter(|f| f.status == Status::Caught)
        .min_by_key(|f| f.relevant.len())
        .expect("at least one caught fault");
    let fault = Fault::from_name(&row.fault).expect("a known fault");
    let cat = catalog();
    let dir = scratch("minus-one");
    copy_dir(&cases_dir(), &dir);
    for killer in &row.relevant {
        let case = cat.case(&killer.id).expect("killer is a catalogue case");
        let rel = case.path.strip_prefix(&cat.dir).unwrap_or(&case.path);
        std::fs::remove_file(dir.join(rel)).expect("remove the killer's case file");
    }
    let reduced = catalog::load(&dir).expect("the reduced catalogue loads");
    assert_eq!(reduced.cases.len(), cat.cases.len() - row.relevant.len());
    let opts = Options {
        faults: vec![fault],
        ..Options::default()
    };
    let again = runtime().block_on(selfcheck::run(&reduced, &reduced.cases, &opts));
    let _ = std::fs::remove_dir_all(&dir);
    let removed: Vec<&str> = row.relevant_ids();
    eprintln!(
        "removed {removed:?}, the only relevant killers of {}",
        row.fault
    );
    assert!(!again.ok());
    let new_row = again.fault(&row.fault).expect("the fault was checked");
    assert_ne!(
        new_row.status,
        Status::Caught,
        "{} still caught by {:?}",
        row.fault,
        new_row.relevant_ids()
    );
    assert!(
        again.failures().iter().any(|f| f.contains(&row.fault)),
        "the failures do not name {}: {:?}",
        row.fault,
        again.failures()
    );
    assert!(selfcheck::render_text(&again).contains(&row.fault));
}
