//! What a scenario asks, checked before the lab starts: the values its steps give (sizes,
//! ranges, byte offsets, counts, status codes) and the order of its steps (a step on "that
//! file" needs a Given that served a file, the same for a page and for tailored files). A
//! scenario the lab could only reject mid-run is rejected with the step's place instead.

use std::sync::LazyLock;

use cucumber::codegen::Regex;
use cucumber::gherkin::StepType;
use mock_servers::RangeRequest;

use crate::parameters::Size;

/// What the steps so far have set up.
#[derive(Debug, Default)]
struct SetUp {
    /// A file of this many bytes (`None`: a page).
    served: Option<Served>,
    tailored: bool,
}

#[derive(Debug, Clone, Copy)]
enum Served {
    File(u64),
    Page,
    /// A control object of each kind.
    Objects,
}

/// The bytes of the certificate trust list the lab serves (`steps/src/agents.rs`).
const TRUST_LIST_SIZE: u64 = 64 << 10;

type Check = fn(&[&str], &mut SetUp) -> Result<(), String>;

/// One rule: what a step's text must match for it to apply (captures: the values it checks).
struct Rule {
    pattern: &'static str,
    check: Check,
}

const SIZE: &str = r"(\d+ (?:bytes|KiB|MiB|GiB))";

static RULES: LazyLock<Vec<(Regex, Check)>> = LazyLock::new(|| {
    RULES_WRITTEN
        .iter()
        .map(|rule| {
            let pattern = format!("^{}$", rule.pattern.replace("{SIZE}", SIZE));
            (Regex::new(&pattern).expect("a valid rule"), rule.check)
        })
        .collect()
});

const RULES_WRITTEN: &[Rule] = &[
    Rule {
        pattern: r#""[^"]*" serves an? {SIZE} (?:update file under a per-client name|.+ under its real URL shape)"#,
        check: |values, set_up| {
            let size = size(values[0])?;
            set_up.served = Some(Served::File(size));
            Ok(())
        },
    },
    Rule {
        pattern: r#""[^"]*" serves the certificate trust list"#,
        check: |_, set_up| {
            set_up.served = Some(Served::File(TRUST_LIST_SIZE));
            Ok(())
        },
    },
    Rule {
        pattern: r#""[^"]*" serves (?:a cacheable page|an update page that links (\d+) other objects)"#,
        check: |values, set_up| {
            if values.first().is_some_and(|n| !n.is_empty()) {
                at_least(values[0], 1, "linked objects")?;
            }
            set_up.served = Some(Served::Page);
            Ok(())
        },
    },
    Rule {
        pattern: r#""[^"]*" serves each of (\d+) clients its own tailored update file"#,
        check: |values, set_up| {
            at_least(values[0], 2, "clients (dynamic names compare clients)")?;
            set_up.tailored = true;
            Ok(())
        },
    },
    Rule {
        pattern: r"every client downloads its own file over .*",
        check: |_, set_up| {
            if set_up.tailored {
                Ok(())
            } else {
                Err("no tailored files were set up: add `Given \"HOST\" serves each of N clients its own tailored update file` before it".to_owned())
            }
        },
    },
    Rule {
        pattern: r"a BITS client asks for bytes (\d+)-(\d+) of that file over .*",
        check: |values, set_up| {
            let file = file(set_up)?;
            let (first, last) = (number(values[0])?, number(values[1])?);
            if first > last {
                return Err(format!("bytes {first}-{last}: the first byte comes after the last; write bytes {last}-{first}"));
            }
            within(first, file)
        },
    },
    Rule {
        pattern: r#"(?:a BITS client asks for the range|the origin received the Range header) "([^"]*)".*"#,
        check: |values, set_up| {
            let ranges = RangeRequest::parse_header(values[0]).ok_or_else(|| {
                format!("{:?} is not a Range header value: write bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX, comma-separated", values[0])
            })?;
            if let Some(Served::File(size)) = set_up.served {
                if ranges.iter().all(|r| r.resolve(size).is_none()) {
                    return Err(format!(
                        "{:?} asks for nothing of the {size}-byte file",
                        values[0]
                    ));
                }
            }
            Ok(())
        },
    },
    Rule {
        pattern: r"a BITS client downloads that file (?:from byte (\d+) )?over \S+ in {SIZE} ranges",
        check: |values, set_up| {
            let file = file(set_up)?;
            if size(values[1])? == 0 {
                return Err("ranges of 0 bytes: write a size of 1 byte or more".to_owned());
            }
            match values[0] {
                "" => Ok(()),
                start => within(number(start)?, file),
            }
        },
    },
    Rule {
        pattern: r"a BITS client resumes that file from byte (\d+) over .*",
        check: |values, set_up| within(number(values[0])?, file(set_up)?),
    },
    Rule {
        pattern: r"an update client starts a whole-file download of that file over \S+ and reads its first {SIZE}",
        check: |values, set_up| {
            let file = file(set_up)?;
            let first = size(values[0])?;
            if first > file {
                return Err(format!("reads its first {first} bytes of a {file}-byte file: write {file} bytes or less"));
            }
            Ok(())
        },
    },
    Rule {
        pattern: r"(?:an update client downloads (?:the whole file|that file from the first host)|a Delivery Optimization client downloads that file) .*",
        check: |_, set_up| file(set_up).map(drop),
    },
    Rule {
        pattern: r#""[^"]*" redirects requests for that file there"#,
        check: |_, set_up| file(set_up).map(drop),
    },
    Rule {
        pattern: r"a Delivery Optimization client downloads that file over \S+ in 1 MiB pieces over (\d+) connections",
        check: |values, _| at_least(values[0], 1, "connections"),
    },
    Rule {
        pattern: r#""[^"]*" serves a control object of each kind"#,
        check: |_, set_up| {
            set_up.served = Some(Served::Objects);
            Ok(())
        },
    },
    Rule {
        pattern: r"(?:a client .* requests each of them over .*|the same client requests each of them again)",
        check: |_, set_up| match set_up.served {
            Some(Served::Objects) => Ok(()),
            Some(served) => Err(format!(
                "the scenario set up a {}, not control objects: write `requests that {}`",
                served.noun(),
                served.noun()
            )),
            None => Err(nothing_served("control object")),
        },
    },
    Rule {
        pattern: r"a client .* requests that (file|page) over .*",
        check: |values, set_up| match (values[0], set_up.served) {
            ("file", Some(Served::File(_))) | ("page", Some(Served::Page)) => Ok(()),
            (_, Some(Served::Objects)) => Err(
                "the scenario set up a control object of each kind: write `requests each of them`"
                    .to_owned(),
            ),
            (asked, Some(served)) => Err(format!(
                "the scenario set up a {}, not a {asked}: write `requests that {}`",
                served.noun(),
                served.noun()
            )),
            (asked, None) => Err(nothing_served(asked)),
        },
    },
    Rule {
        pattern: r"the client receives status (\d+)",
        check: |values, _| match number(values[0])? {
            100..=599 => Ok(()),
            other => Err(format!(
                "status {other} is no HTTP status: write 100 to 599"
            )),
        },
    },
];

impl Served {
    fn noun(self) -> &'static str {
        match self {
            Self::File(_) => "file",
            Self::Page => "page",
            Self::Objects => "control object of each kind",
        }
    }
}

fn nothing_served(what: &str) -> String {
    format!(
        "no {what} was set up before this step: add a Given that serves one (`\"HOST\" serves a SIZE update file under a per-client name`, `\"HOST\" serves a cacheable page`, `\"HOST\" serves a control object of each kind`)"
    )
}

fn file(set_up: &SetUp) -> Result<u64, String> {
    match set_up.served {
        Some(Served::File(size)) => Ok(size),
        Some(Served::Page | Served::Objects) => {
            Err("the scenario set up no file: serve a file for this step".to_owned())
        }
        None => Err(nothing_served("file")),
    }
}

fn size(text: &str) -> Result<u64, String> {
    text.parse::<Size>().map(|s| s.0)
}

fn number(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("{text} is too large a number (at most {})", u64::MAX))
}

fn at_least(text: &str, least: u64, what: &str) -> Result<(), String> {
    if number(text)? < least {
        return Err(format!("{text} {what}: write {least} or more"));
    }
    Ok(())
}

fn within(byte: u64, file: u64) -> Result<(), String> {
    if byte >= file {
        return Err(format!(
            "byte {byte} is past the end of the {file}-byte file: write a byte below {file}"
        ));
    }
    Ok(())
}

/// Checks the steps of one scenario (its Background's first), in order; each problem comes
/// with the index of its step.
pub fn check_scenario_steps<'a>(
    steps: impl IntoIterator<Item = (StepType, &'a str)>,
) -> Vec<(usize, String)> {
    let mut set_up = SetUp::default();
    let mut problems = Vec::new();
    for (index, (_, text)) in steps.into_iter().enumerate() {
        for (pattern, check) in RULES.iter() {
            let Some(captures) = pattern.captures(text) else {
                continue;
            };
            let values: Vec<&str> = captures
                .iter()
                .skip(1)
                .map(|c| c.map_or("", |c| c.as_str()))
                .collect();
            if let Err(problem) = check(&values, &mut set_up) {
                problems.push((index, problem));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(steps: &[&str]) -> Vec<(usize, String)> {
        check_scenario_steps(steps.iter().map(|s| (StepType::Given, *s)))
    }

    #[test]
    fn sizes_ranges_offsets_and_counts_the_lab_cannot_serve_are_found() {
        let file =
            "\"download.windowsupdate.com\" serves a 4 MiB update file under a per-client name";
        for (step, says) in [
            ("a BITS client asks for bytes 10-5 of that file over HTTP", "the first byte comes after the last"),
            ("a BITS client asks for bytes 5000000-5000001 of that file over HTTP", "past the end"),
            ("a BITS client asks for the range \"bytes=a-b\" of that file over HTTP", "not a Range header value"),
            ("a BITS client asks for the range \"bytes=9000000-\" of that file over HTTP", "asks for nothing"),
            ("a BITS client downloads that file over HTTP in 0 bytes ranges", "ranges of 0 bytes"),
            ("a BITS client resumes that file from byte 4194304 over HTTP with its ETag in If-Range", "past the end"),
            ("an update client starts a whole-file download of that file over HTTP and reads its first 8 MiB", "write 4194304 bytes or less"),
            ("a client without credentials requests that page over HTTP", "set up a file, not a page"),
            ("a client with the lab credentials requests each of them over HTTP", "not control objects"),
            ("the client receives status 999", "no HTTP status"),
            ("a Delivery Optimization client downloads that file over HTTP in 1 MiB pieces over 0 connections", "0 connections"),
        ] {
            let found = problems(&[file, step]);
            assert_eq!(found.len(), 1, "{step}: {found:?}");
            assert_eq!(found[0].0, 1);
            assert!(found[0].1.contains(says), "{step}: {}", found[0].1);
        }
    }

    #[test]
    fn steps_on_what_no_given_set_up_are_found() {
        for step in [
            "a BITS client asks for bytes 0-5 of that file over HTTP",
            "a client without credentials requests that file over HTTP",
            "\"download.windowsupdate.com\" redirects requests for that file there",
            "every client downloads its own file over HTTP, one after the other",
            "the same client requests each of them again",
        ] {
            assert_eq!(problems(&[step]).len(), 1, "{step}");
        }
        assert!(
            problems(&["\"x.example\" serves each of 1 clients its own tailored update file"])[0]
                .1
                .contains("write 2 or more")
        );
        assert!(problems(&[
            "\"x.example\" serves a 99999999999 GiB update file under a per-client name"
        ])[0]
            .1
            .contains("too large"));
    }

    #[test]
    fn every_bundled_scenario_passes_and_every_rule_applies_to_one() {
        use cucumber::feature::Ext as _;
        use cucumber::gherkin::{Feature, GherkinEnv};
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../features");
        let mut used = vec![false; RULES.len()];
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let feature = Feature::parse_path(entry.path(), GherkinEnv::default())
                .unwrap()
                .expand_examples()
                .unwrap();
            for scenario in &feature.scenarios {
                let steps: Vec<(StepType, &str)> = feature
                    .background
                    .iter()
                    .flat_map(|b| &b.steps)
                    .chain(&scenario.steps)
                    .map(|s| (s.ty, s.value.as_str()))
                    .collect();
                for (_, text) in &steps {
                    for (index, (pattern, _)) in RULES.iter().enumerate() {
                        used[index] |= pattern.is_match(text);
                    }
                }
                let found = check_scenario_steps(steps);
                assert!(
                    found.is_empty(),
                    "{}: {} {found:?}",
                    entry.path().display(),
                    scenario.name
                );
            }
        }
        for (index, used) in used.iter().enumerate() {
            assert!(
                used,
                "rule {:?} matches no bundled step: its step was renamed?",
                RULES_WRITTEN[index].pattern
            );
        }
    }
}
