//! The step catalogue, read from the step definitions themselves: every step cucumber
//! registers for [`ConformanceWorld`] (its keyword, regular expression and place in the
//! source), the expression as its attribute writes it, and the parameters those expressions
//! take. `proxy-conformance steps` and the README's list are rendered from it, so neither can
//! drift from the code.

use cucumber::codegen::{inventory, Regex, StepConstructor, WorldInventory};

use crate::world::ConformanceWorld;

/// The source of every module that defines steps or parameters, to read expressions as written.
const SOURCES: &[(&str, &str)] = &[
    ("agents.rs", include_str!("agents.rs")),
    ("categorize.rs", include_str!("categorize.rs")),
    ("client.rs", include_str!("client.rs")),
    ("control_objects.rs", include_str!("control_objects.rs")),
    ("dynamic_names.rs", include_str!("dynamic_names.rs")),
    ("files.rs", include_str!("files.rs")),
    ("icap.rs", include_str!("icap.rs")),
    ("parameters.rs", include_str!("parameters.rs")),
    ("proxy.rs", include_str!("proxy.rs")),
    ("ranges.rs", include_str!("ranges.rs")),
    ("redirects.rs", include_str!("redirects.rs")),
    ("tls.rs", include_str!("tls.rs")),
    ("tunnel.rs", include_str!("tunnel.rs")),
];

/// One step definition.
#[derive(Debug, Clone)]
pub struct StepDefinition {
    /// `Given`, `When` or `Then`.
    pub keyword: &'static str,
    /// As the attribute writes it: a Cucumber expression (`{string} serves a cacheable page`)
    /// or, for a regular expression, its text without anchors.
    pub expression: String,
    /// What a step's text must match.
    pub regex: Regex,
    /// The module that defines it (`files.rs`) and the attribute's line.
    pub file: &'static str,
    pub line: u32,
}

/// A parameter a Cucumber expression takes (`{size}`), and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepParameter {
    pub name: String,
    pub accepts: String,
}

/// Every step definition, Given then When then Then, each in the order of its source.
pub fn step_definitions() -> Vec<StepDefinition> {
    let mut steps = Vec::new();
    collect::<<ConformanceWorld as WorldInventory>::Given>("Given", &mut steps);
    collect::<<ConformanceWorld as WorldInventory>::When>("When", &mut steps);
    collect::<<ConformanceWorld as WorldInventory>::Then>("Then", &mut steps);
    steps.sort_by_key(|s| (keyword_rank(s.keyword), s.file, s.line));
    steps
}

fn keyword_rank(keyword: &str) -> u8 {
    match keyword {
        "Given" => 0,
        "When" => 1,
        _ => 2,
    }
}

fn collect<T>(keyword: &'static str, steps: &mut Vec<StepDefinition>)
where
    T: inventory::Collect + StepConstructor<ConformanceWorld>,
{
    for registered in inventory::iter::<T> {
        let (location, regex, _) = registered.inner();
        let regex = regex();
        let file = location
            .path
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(location.path);
        let (file, expression) = SOURCES
            .iter()
            .find(|(name, _)| *name == file)
            .and_then(|(name, source)| {
                attribute_text(source, location.line).map(|text| (*name, text))
            })
            .unwrap_or_else(|| ("(unknown)", regex.as_str().to_owned()));
        steps.push(StepDefinition {
            keyword,
            expression,
            regex,
            file,
            line: location.line,
        });
    }
}

/// The string of the step attribute starting at `line` (1-based) of `source`: an expression
/// as written, a regular expression without its anchors.
fn attribute_text(source: &str, line: u32) -> Option<String> {
    let mut attribute = String::new();
    for text in source
        .lines()
        .skip(usize::try_from(line).ok()?.checked_sub(1)?)
    {
        attribute.push_str(text.trim());
        if text.trim_end().ends_with(")]") {
            break;
        }
    }
    let is_regex = attribute.contains("regex =");
    let literal = string_literal(&attribute)?;
    Some(if is_regex {
        literal
            .trim_start_matches('^')
            .trim_end_matches('$')
            .to_owned()
    } else {
        literal
    })
}

/// The first string literal (`"…"` with escapes, or `r"…"`) in `text`, its escapes undone.
fn string_literal(text: &str) -> Option<String> {
    let start = text.find('"')?;
    if text[..start].ends_with('r') {
        let rest = &text[start + 1..];
        return Some(rest[..rest.find('"')?].to_owned());
    }
    let mut value = String::new();
    let mut chars = text[start + 1..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}

/// The parameters the expressions take: cucumber's `{string}` and `{int}`, then every
/// `#[param(name = …, regex = …)]` of the steps crate.
pub fn step_parameters() -> Vec<StepParameter> {
    let mut parameters = vec![
        StepParameter {
            name: "string".to_owned(),
            accepts: "text in double quotes: a host (\"download.windowsupdate.com\", \
                      \"*.update.microsoft.com\", \"*.update.microsoft.com, deep\", \
                      \"look-alike 3\", \"portal.corp.example\") or a Range header"
                .to_owned(),
        },
        StepParameter {
            name: "int".to_owned(),
            accepts: "a whole number".to_owned(),
        },
    ];
    for (_, source) in SOURCES {
        let mut rest = *source;
        while let Some(at) = rest.find("#[param(") {
            rest = &rest[at..];
            let end = rest.find(")]").unwrap_or(rest.len());
            let attribute = &rest[..end];
            let field = |key: &str| {
                attribute
                    .find(key)
                    .and_then(|at| string_literal(&attribute[at + key.len()..]))
            };
            if let (Some(name), Some(accepts)) = (field("name ="), field("regex =")) {
                parameters.push(StepParameter { name, accepts });
            }
            rest = &rest[end..];
        }
    }
    parameters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_step_is_read_from_its_source() {
        let steps = step_definitions();
        assert!(steps.len() >= 60, "only {} steps", steps.len());
        for step in &steps {
            assert_ne!(
                step.file, "(unknown)",
                "{}: add its module to SOURCES",
                step.expression
            );
            assert!(!step.expression.contains("expr ="), "{}", step.expression);
        }
        let serves = steps
            .iter()
            .find(|s| s.expression == "{string} serves a cacheable page")
            .expect("the cacheable page step");
        assert_eq!((serves.keyword, serves.file), ("Given", "files.rs"));
        assert!(steps.iter().any(|s| s.expression
            == r"the certificate the client saw was issued by the (origin|interception) CA"));
    }

    #[test]
    fn every_module_with_steps_or_parameters_is_read() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        // proof.rs's unit tests hold step attributes as data (wrapped and one-line ones).
        const ATTRIBUTES_AS_DATA: &[&str] = &["proof.rs"];
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.path().is_file() || ATTRIBUTES_AS_DATA.contains(&name.as_str()) {
                continue;
            }
            let source = std::fs::read_to_string(entry.path()).unwrap();
            let defines = ["#[given(", "#[when(", "#[then(", "#[param("]
                .iter()
                .any(|a| source.lines().any(|l| l.trim_start().starts_with(a)));
            assert_eq!(
                defines,
                SOURCES.iter().any(|(n, _)| *n == name),
                "{name}: SOURCES must list exactly the modules that define steps or parameters"
            );
        }
    }

    #[test]
    fn the_parameters_are_read_from_their_attributes() {
        let parameters = step_parameters();
        let names: Vec<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
        for name in [
            "string",
            "int",
            "size",
            "scheme",
            "credentials",
            "resource",
            "family",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        let family = parameters.iter().find(|p| p.name == "family").unwrap();
        assert!(family.accepts.contains(r"cumulative update \.cab"));
    }

    #[test]
    fn string_literals_are_unescaped() {
        assert_eq!(
            string_literal(r#"expr = "a \"b\" c")]"#).as_deref(),
            Some(r#"a "b" c"#)
        );
        assert_eq!(
            string_literal(r#"regex = r"^x (\d+)$")]"#).as_deref(),
            Some(r"^x (\d+)$")
        );
    }
}
