//! The documentation stays inside the repository and true to it: no file of the tree cites a
//! document a clone does not have (design notes or shared notes kept outside the repository),
//! every repository path written in backticks in a Markdown file exists, and so does the
//! target of every relative Markdown link. It reads files only: no build of the lab, no Docker.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Citations of documents that live outside the repository. Spelt in pieces, so that this
/// file does not cite them itself.
const OUTSIDE: &[&str] = &[
    concat!("DESIGN", ".md"),
    concat!("..", "/shared"),
    concat!("shared", "/notes"),
    concat!("/work", "/shared"),
    concat!("squid-", "findings"),
    concat!("windows-update-", "traffic.md"),
    concat!("notes/", "crates.md"),
];

/// Folders that are not the repository's own text: build output and Git's files.
const SKIPPED: &[&str] = &["target", ".git"];

/// Characters that make a backticked path a pattern or a placeholder, not a path to check.
const PLACEHOLDER: &[char] = &['*', '{', '}', '<', '>', '…', '|', '$', '?', '[', ']'];

/// Every file under `dir`, build output and Git's files left out.
fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if SKIPPED.iter().any(|s| name == *s) {
            continue;
        }
        if path.is_dir() {
            files(&path, found);
        } else {
            found.push(path);
        }
    }
}

fn all_files() -> Vec<PathBuf> {
    let mut found = Vec::new();
    files(Path::new(ROOT), &mut found);
    found.sort();
    found
}

fn shown(path: &Path) -> String {
    path.strip_prefix(ROOT)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// `text` with fenced code blocks blanked out (newlines kept, so lines still count right):
/// console transcripts and examples quote paths of other machines.
fn without_fences(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fenced = false;
    for line in text.split_inclusive('\n') {
        let fence = line.trim_start().starts_with("```");
        if fenced || fence {
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
        } else {
            out.push_str(line);
        }
        if fence {
            fenced = !fenced;
        }
    }
    out
}

/// The inline code spans of `text` with the byte offset of each: a run of backticks up to the
/// next run of the same length, as Markdown pairs them.
fn code_spans(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|b| **b == b'`').count();
        let start = i + run;
        let mut j = start;
        let mut end = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let closing = bytes[j..].iter().take_while(|b| **b == b'`').count();
                if closing == run {
                    end = Some(j);
                    break;
                }
                j += closing;
            } else {
                j += 1;
            }
        }
        match end {
            Some(end) => {
                spans.push((start, &text[start..end]));
                i = end + run;
            }
            None => i = start,
        }
    }
    spans
}

/// The repository path a code span names, if it looks like one: no blank, no scheme, a first
/// segment that is an entry at the repository's top level, no pattern or placeholder; a
/// trailing `:LINE` or `:LINE:COLUMN` is dropped.
fn repository_path<'a>(span: &'a str, top_level: &[String]) -> Option<&'a str> {
    if span.chars().any(char::is_whitespace) || span.contains("://") {
        return None;
    }
    let (first, _) = span.split_once('/')?;
    if !top_level.iter().any(|entry| entry == first) || span.contains(PLACEHOLDER) {
        return None;
    }
    let mut path = span;
    for _ in 0..2 {
        if let Some((head, tail)) = path.rsplit_once(':') {
            if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
                path = head;
            }
        }
    }
    Some(path)
}

/// The targets of the relative Markdown links of `text` (`[text](target)`), with offsets.
fn link_targets(text: &str) -> Vec<(usize, &str)> {
    text.match_indices("](")
        .filter_map(|(at, _)| {
            let start = at + 2;
            let end = start + text[start..].find(')')?;
            let target = text[start..end].split('#').next().unwrap_or("");
            let external = target.is_empty()
                || target.contains("://")
                || target.starts_with("mailto:")
                || target.contains(char::is_whitespace);
            (!external).then_some((start, target))
        })
        .collect()
}

fn top_level() -> Vec<String> {
    std::fs::read_dir(ROOT)
        .expect("the repository root")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !SKIPPED.contains(&name.as_str()))
        .collect()
}

#[test]
fn no_file_cites_a_document_outside_the_repository() {
    let mut citations = Vec::new();
    for path in all_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // not text
        };
        for (number, line) in text.lines().enumerate() {
            for outside in OUTSIDE.iter().filter(|o| line.contains(**o)) {
                citations.push(format!(
                    "{}:{}: cites `{outside}`, which is not in the repository: {}",
                    shown(&path),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        citations.is_empty(),
        "cite a file of the repository (docs/, a module, a feature) or write the fact itself:\n{}",
        citations.join("\n")
    );
}

#[test]
fn every_path_the_documentation_names_exists() {
    let top_level = top_level();
    let mut missing = Vec::new();
    let markdown = all_files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "md"));
    for path in markdown {
        let text = without_fences(&std::fs::read_to_string(&path).expect("a Markdown file"));
        for (at, span) in code_spans(&text) {
            if let Some(named) = repository_path(span, &top_level) {
                if !Path::new(ROOT).join(named).exists() {
                    missing.push(format!(
                        "{}:{}: `{span}` does not exist",
                        shown(&path),
                        line_of(&text, at)
                    ));
                }
            }
        }
        let dir = path.parent().expect("a file's folder");
        for (at, target) in link_targets(&text) {
            if !dir.join(target).exists() {
                missing.push(format!(
                    "{}:{}: the link to `{target}` leads nowhere",
                    shown(&path),
                    line_of(&text, at)
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "paths in the documentation that are not in the repository (moved or renamed?):\n{}",
        missing.join("\n")
    );
}

#[test]
fn what_counts_as_a_repository_path() {
    let top = ["lab".to_owned(), ".ci".to_owned(), "docs".to_owned()];
    let text = "see `lab/src/lab.rs:12:5` and ``lab/x.rs`` and `.ci/run`\n\
                ```\n`lab/in/a/fence.rs`\n```\n\
                not `lab/src/<name>/`, `policies/x.conf`, `lab/*.rs`, `a b/c`, `https://x/y` or\n\
                `/etc/squid/lab`; a [link](docs/README.md#top) and [another](https://e.org/)";
    let text = without_fences(text);
    let paths: Vec<&str> = code_spans(&text)
        .into_iter()
        .filter_map(|(_, span)| repository_path(span, &top))
        .collect();
    assert_eq!(paths, ["lab/src/lab.rs", "lab/x.rs", ".ci/run"]);
    let links: Vec<&str> = link_targets(&text).into_iter().map(|(_, t)| t).collect();
    assert_eq!(links, ["docs/README.md"]);
    assert_eq!(line_of(&text, text.find("link").unwrap()), 6);
}

/// The README's table of the properties, as the property records (`model/src/property.rs`)
/// say it.
fn property_table() -> String {
    use conformance_model::{ControlKind, PROPERTIES};
    let mut table = String::from(
        "| property | for an update host | control | judged from | CPL properties (KB 166719) | remedy |\n\
         |---|---|---|---|---|---|\n",
    );
    for record in PROPERTIES {
        let control = match record.control {
            ControlKind::PolicedHost => "`@control` on a policed host",
            ControlKind::NonePossible => "none possible",
        };
        let vantages: Vec<&str> = record.vantages.iter().map(|v| v.name()).collect();
        let cpl: Vec<String> = record
            .cpl_properties
            .iter()
            .map(|name| format!("`{name}`"))
            .collect();
        table.push_str(&format!(
            "| {} | {} | {control} | {} | {} | {} |\n",
            record.tag,
            record.meaning,
            vantages.join(", "),
            if cpl.is_empty() {
                "—".to_owned()
            } else {
                cpl.join(", ")
            },
            record.remedy.line()
        ));
    }
    table
}

/// The first cells of the rows of the README table whose header starts with `header`.
fn first_cells_of_table<'a>(readme: &'a str, header: &str) -> Vec<(&'a str, &'a str)> {
    readme
        .lines()
        .skip_while(|line| !line.starts_with(header))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| {
            let mut cells = line.trim_matches('|').split('|');
            Some((cells.next()?.trim(), cells.next()?.trim()))
        })
        .collect()
}

#[test]
fn the_readmes_property_tables_follow_the_property_records() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let table = property_table();
    assert!(
        readme.contains(&table),
        "README.md's table of the properties differs from their records; it should read:\n{table}"
    );
    let external = first_cells_of_table(&readme, "| property | external mode judges it from |");
    let run_wide = first_cells_of_table(&readme, "| property | a violation anywhere");
    for record in conformance_model::PROPERTIES {
        let rows_naming = |rows: &[(&str, &str)]| -> Vec<String> {
            rows.iter()
                .filter(|(tags, _)| tags.split(", ").any(|tag| tag == record.tag))
                .map(|(_, said)| (*said).to_owned())
                .collect()
        };
        let said = rows_naming(&external);
        assert_eq!(
            said.len(),
            1,
            "{}: one row in the external-mode table",
            record.tag
        );
        for vantage in record.vantages {
            assert!(
                said[0].contains(vantage.name()),
                "{}: the external-mode table must name the {vantage}",
                record.tag
            );
        }
        assert_eq!(
            rows_naming(&run_wide).len(),
            1,
            "{}: one row in the run-wide invariants table",
            record.tag
        );
    }
}
