//! The corpus of real CPL policies (`tests/corpus/*.cpl`, each citing its public source on
//! its first line). Every file says in its header comments what lint must find:
//!
//! ```text
//! ; source: URL
//! ; expect: clean                                   (no error; warnings allowed)
//! ; expect: error at line 12: undefined condition   (an error on that line, message containing the text)
//! ; expect: warning at line 6: layer has no rule    (a warning that must be reported)
//! ; explain: URL                                    (the request the golden trace is for)
//! ```
//!
//! A file with expected errors must produce exactly those error lines (no others): lint
//! over-reporting on real policies is a failure too. The golden lint report, trace and
//! fragment of every file are in `tests/corpus/golden/`; `UPDATE_GOLDEN=1` rewrites them.

use std::path::{Path, PathBuf};

use cpl::{explain, lint, parse, render_report, to_squid, Severity};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

#[derive(Debug)]
struct Expectation {
    severity: Severity,
    line: usize,
    text: String,
}

struct Header {
    clean: bool,
    expected: Vec<Expectation>,
    explain: Option<String>,
}

fn header(source: &str) -> Header {
    let mut header = Header {
        clean: false,
        expected: Vec::new(),
        explain: None,
    };
    for line in source.lines().take_while(|l| l.starts_with(';')) {
        let line = line.trim_start_matches(';').trim();
        if let Some(url) = line.strip_prefix("explain:") {
            header.explain = Some(url.trim().to_owned());
        }
        let Some(expect) = line.strip_prefix("expect:") else {
            continue;
        };
        let expect = expect.trim();
        if expect == "clean" {
            header.clean = true;
            continue;
        }
        let (severity, rest) = if let Some(rest) = expect.strip_prefix("error at line ") {
            (Severity::Error, rest)
        } else if let Some(rest) = expect.strip_prefix("warning at line ") {
            (Severity::Warning, rest)
        } else {
            panic!("unreadable expectation `{expect}`");
        };
        let (line, text) = rest.split_once(':').expect("`line N: text`");
        header.expected.push(Expectation {
            severity,
            line: line.trim().parse().expect("a line number"),
            text: text.trim().to_owned(),
        });
    }
    header
}

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "cpl"))
        .collect();
    files.sort();
    files
}

fn shown_name(path: &Path) -> String {
    format!(
        "cpl/tests/corpus/{}",
        path.file_name().unwrap().to_string_lossy()
    )
}

#[test]
fn the_corpus_has_at_least_25_policies_each_citing_its_source() {
    let files = corpus();
    assert!(files.len() >= 25, "{} policies", files.len());
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        assert!(
            source.starts_with("; source: "),
            "{} does not cite its source on its first line",
            file.display()
        );
        let header = header(&source);
        assert!(
            header.clean
                || header
                    .expected
                    .iter()
                    .any(|e| e.severity == Severity::Error),
            "{}: say `; expect: clean` or the expected errors",
            file.display()
        );
    }
}

#[test]
fn lint_is_clean_on_correct_policies_and_points_at_each_defect() {
    let mut failures = Vec::new();
    for file in corpus() {
        let source = std::fs::read_to_string(&file).unwrap();
        let name = shown_name(&file);
        let header = header(&source);
        let policy = parse(&source, &name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let diagnostics = lint(&policy);
        let report = render_report(&diagnostics, &policy.source, &name);
        let errors: Vec<usize> = diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.location().map_or(0, |l| l.line))
            .collect();
        for expected in &header.expected {
            let found = diagnostics.iter().any(|d| {
                d.severity == expected.severity
                    && d.location().is_some_and(|l| l.line == expected.line)
                    && d.message.contains(&expected.text)
            });
            if !found {
                failures.push(format!("{name}: expected {expected:?}\n{report}"));
            }
        }
        let expected_error_lines: Vec<usize> = header
            .expected
            .iter()
            .filter(|e| e.severity == Severity::Error)
            .map(|e| e.line)
            .collect();
        for line in &errors {
            if !expected_error_lines.contains(line) {
                failures.push(format!("{name}: unexpected error at line {line}\n{report}"));
            }
        }
        if header.clean && !errors.is_empty() {
            failures.push(format!("{name}: expected clean\n{report}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn golden(name: &str, actual: &str) -> Option<String> {
    let path = Path::new(CORPUS).join("golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    (expected != actual).then(|| {
        format!("{name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}")
    })
}

#[test]
fn golden_lint_explain_and_to_squid_outputs() {
    let mut failures = Vec::new();
    for file in corpus() {
        let source = std::fs::read_to_string(&file).unwrap();
        let name = shown_name(&file);
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let header = header(&source);
        let policy = parse(&source, &name).unwrap();
        let report = render_report(&lint(&policy), &policy.source, &name);
        failures.extend(golden(&format!("{stem}.lint.txt"), &report));
        let url = header
            .explain
            .unwrap_or_else(|| "http://www.example.com/".to_owned());
        let trace = explain(&policy, &url).unwrap().to_string();
        failures.extend(golden(&format!("{stem}.explain.txt"), &trace));
        let translation = to_squid(&policy);
        let mut fragment = translation.fragment.clone();
        for risk in &translation.update_host_risks {
            fragment.push_str(&format!("# may change an update host's decision: {risk}\n"));
        }
        failures.extend(golden(&format!("{stem}.to-squid.conf"), &fragment));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
