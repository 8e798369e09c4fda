//! Every artefact of the synthetic run: snapshots (determinism), escaping, offline HTML.

mod common;

use obo_report::*;

fn normalized() -> Report {
    let mut r = common::synthetic();
    normalize(&mut r);
    r
}

#[test]
fn snapshot_json() {
    insta::assert_snapshot!("report.json", render_json(&normalized()).unwrap());
}

#[test]
fn snapshot_html() {
    insta::assert_snapshot!("report.html", render_html(&normalized()).unwrap());
}

#[test]
fn snapshot_markdown() {
    insta::assert_snapshot!("report.md", render_markdown(&normalized()));
}

#[test]
fn snapshot_junit() {
    insta::assert_snapshot!("junit.xml", render_junit(&normalized()));
}

#[test]
fn snapshot_sarif() {
    insta::assert_snapshot!("report.sarif", render_sarif(&normalized()).unwrap());
}

#[test]
fn write_all_writes_the_five_artefacts() {
    let dir = std::env::temp_dir().join(format!("obo-report-write-all-{}", std::process::id()));
    let paths = write_all(&common::synthetic(), &dir).unwrap();
    let names: Vec<_> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ARTEFACTS);
    for p in &paths {
        assert!(
            std::fs::metadata(p).unwrap().len() > 200,
            "{p:?} is nearly empty"
        );
    }
    // report.json reads back as the same report.
    assert_eq!(
        read_report(&dir.join("report.json")).unwrap(),
        common::synthetic()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn read_report_refuses_another_schema_version() {
    let dir = std::env::temp_dir().join(format!("obo-report-version-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut r = common::synthetic();
    r.schema_version = "99".into();
    let path = dir.join("report.json");
    std::fs::write(&path, render_json(&r).unwrap()).unwrap();
    let err = read_report(&path).unwrap_err();
    assert!(
        matches!(err, ReportError::SchemaVersion { ref found, .. } if found == "99"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two runs with one seed differ in clock facts and finishing order only; after normalisation
/// every artefact is byte-identical.
#[test]
fn normalised_runs_are_byte_identical() {
    let a = common::synthetic();
    let mut b = common::synthetic();
    b.started_at = "2026-11-30T08:00:00Z".into();
    b.duration_ms = 999;
    b.cases.reverse();
    for c in &mut b.cases {
        c.duration_ms += 17;
        for e in &mut c.transcript {
            e.duration_ms += 3;
            if let Some(r) = &mut e.response {
                for (n, v) in &mut r.headers {
                    if n == "date" {
                        *v = "Mon, 30 Nov 2026 08:00:01 GMT".into();
                    }
                }
            }
        }
    }
    assert_ne!(render_json(&a).unwrap(), render_json(&b).unwrap());
    let (mut a, mut b) = (a, b);
    normalize(&mut a);
    normalize(&mut b);
    assert_eq!(render_json(&a).unwrap(), render_json(&b).unwrap());
    assert_eq!(render_html(&a).unwrap(), render_html(&b).unwrap());
    assert_eq!(render_markdown(&a), render_markdown(&b));
    assert_eq!(render_junit(&a), render_junit(&b));
    assert_eq!(render_sarif(&a).unwrap(), render_sarif(&b).unwrap());
}

#[test]
fn html_is_self_contained_and_escapes_target_text() {
    let html = render_html(&common::synthetic()).unwrap();
    // Nothing is fetched: no external stylesheet, script, image, font or frame.
    for needle in ["<link", "src=", "@import", "url(", "<iframe", "<img"] {
        assert!(!html.contains(needle), "HTML contains {needle}");
    }
    assert_eq!(html.matches("<script>").count(), 1, "only our own script");
    assert!(!html.contains("</pre><script>"));
    assert!(html.contains("&lt;script&gt;alert("));
    // Failure details: requirement text, expected vs actual, transcript, curl.
    assert!(
        html.contains("The actor token&#x27;s sub equals the requested_actor bound to the code.")
    );
    assert!(html.contains("<td>invalid_grant | invalid_request</td><td>(none)</td>"));
    assert!(html.contains("curl -sS -i -H"));
    assert!(html
        .contains("obo-conformance run --target reference --seed 42 --cases TOKEN-ACTOR-MISMATCH"));
    // Only the judged (last) exchange of a failed step is marked, not its set-up requests.
    assert_eq!(
        html.matches("<details class=\"exchange suspect\"").count(),
        2
    );
    // Failures come first, the vacuous-pass section before the cases.
    let fail = html.find("id=\"case-TOKEN-ACTOR-MISMATCH\"").unwrap();
    let pass = html.find("id=\"case-AT-ACT-CLAIM\"").unwrap();
    assert!(fail < pass);
    let warn = html.find("Before you trust the passes").unwrap();
    assert!(warn < fail);
}

#[test]
fn markdown_lists_failures_with_requirement_ids() {
    let md = render_markdown(&common::synthetic());
    assert!(md.contains("| 1 | 1 | 1 | 1 | 1 |"));
    assert!(md.contains(
        "- **TOKEN-ACTOR-MISMATCH** (OBO-TOKEN-12, OBO-SEC-7): step 1: expected status 400"
    ));
    assert!(
        !md.contains("<script>"),
        "target text must not become HTML in a step summary"
    );
    assert!(md.lines().count() < 40, "a step summary stays short");
}

/// A minimal XML well-formedness check: balanced elements, quoted attributes, no raw markup in
/// text or attribute values.
fn assert_well_formed_xml(xml: &str) {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .expect("declaration");
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        assert_text(text);
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
        } else {
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name = tag.split_whitespace().next().expect("tag name").to_string();
            let mut attrs = tag[name.len()..].trim();
            while !attrs.is_empty() {
                let eq = attrs.find("=\"").expect("attribute without =\"");
                let value_end = attrs[eq + 2..].find('"').expect("unterminated value") + eq + 2;
                assert_text(&attrs[eq + 2..value_end]);
                attrs = attrs[value_end + 1..].trim_start();
            }
            if !self_closing {
                stack.push(name);
            }
        }
        rest = &rest[close + 1..];
    }
    assert_text(rest);
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
}

fn assert_text(text: &str) {
    assert!(
        !text.contains('<') && !text.contains('>'),
        "raw markup in {text:?}"
    );
    for (i, _) in text.match_indices('&') {
        let entity = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#9;", "&#10;", "&#13;"]
                .contains(&entity),
            "bad entity {entity:?}"
        );
    }
}

#[test]
fn junit_is_well_formed_and_maps_verdicts() {
    let xml = render_junit(&common::synthetic());
    assert_well_formed_xml(&xml);
    assert!(xml.contains("<testsuites name=\"obo-conformance\" tests=\"5\" failures=\"1\" errors=\"1\" skipped=\"1\""));
    assert_eq!(xml.matches("<testcase ").count(), 5);
    assert_eq!(xml.matches("<failure ").count(), 1);
    assert_eq!(xml.matches("<error ").count(), 1);
    assert_eq!(xml.matches("<skipped ").count(), 1);
    assert!(xml.contains("classname=\"obo.token\" name=\"TOKEN-ACTOR-MISMATCH: "));
    assert!(xml.contains("step 1 status: expected 400, got 200 [OBO-TOKEN-12]"));
}

#[test]
fn junit_survives_hostile_text() {
    let mut r = common::synthetic();
    r.cases[0].message = "]]></failure><x a=\"\u{0}\u{1b}\">&nbsp;'\u{FFFF}\n".into();
    r.cases[0].id = "ID<&>".into();
    assert_well_formed_xml(&render_junit(&r));
}

#[test]
fn sarif_marks_adversarial_failures_as_security_findings() {
    let sarif: serde_json::Value =
        serde_json::from_str(&render_sarif(&common::synthetic()).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 5, "one rule per case");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "fail and warn only");
    for res in results {
        let index = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[index]["id"], res["ruleId"],
            "ruleIndex points at the rule"
        );
    }
    let fail = &results[0];
    assert_eq!(fail["ruleId"], "TOKEN-ACTOR-MISMATCH");
    assert_eq!(fail["level"], "error");
    assert_eq!(fail["properties"]["tags"][0], "security");
    assert_eq!(fail["properties"]["security-severity"], "8.0");
    assert_eq!(
        fail["properties"]["requirements"],
        serde_json::json!(["OBO-TOKEN-12", "OBO-SEC-7"])
    );
    assert_eq!(
        rules[index_of(rules, "TOKEN-ACTOR-MISMATCH")]["properties"]["security-severity"],
        "8.0"
    );
    let warn = &results[1];
    assert_eq!(warn["level"], "warning");
    assert!(
        warn["properties"].get("security-severity").is_none(),
        "a positive case is no security finding"
    );
}

fn index_of(rules: &[serde_json::Value], id: &str) -> usize {
    rules.iter().position(|r| r["id"] == id).unwrap()
}

/// Every case file of the catalogue sits where `case_path` says, so SARIF locations and JUnit
/// classnames follow the folders; a new folder or prefix fails here first.
#[test]
fn case_paths_match_the_catalogue() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    for dir in std::fs::read_dir(root.join("cases")).unwrap().flatten() {
        if !dir.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let text = std::fs::read_to_string(file.path()).unwrap();
            let value: toml::Value = toml::from_str(&text).unwrap();
            let id = value["id"].as_str().unwrap();
            let relative = file
                .path()
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            assert_eq!(case_path(id).as_deref(), Some(relative.as_str()), "{id}");
            checked += 1;
        }
    }
    assert!(checked > 0);
}
