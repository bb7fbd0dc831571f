//! The mapping table printed before a run: where, what the admin wrote, what the lab runs, why;
//! then what could not be mapped, with the properties that become inconclusive.

use std::fmt::Write as _;

use super::WholeConfig;

pub(super) fn render(whole: &WholeConfig) -> String {
    let mut out = String::new();
    let main = whole
        .files()
        .first()
        .map(|p| crate::display_path(p))
        .unwrap_or_default();
    // Rows name files relative to the main file's folder.
    let folder = whole
        .files()
        .first()
        .and_then(|p| p.parent())
        .map(|p| format!("{}/", crate::display_path(p)))
        .filter(|f| f != "/");
    let short = |at: &str| -> String {
        folder
            .as_deref()
            .and_then(|f| at.strip_prefix(f))
            .unwrap_or(at)
            .to_owned()
    };
    let _ = writeln!(
        out,
        "squid-conf: {main} ({} file(s), {} ACL file(s)) mapped onto the lab; every other directive is kept as written:",
        whole.files().len(),
        whole.carried().len()
    );
    let at_width = whole
        .changes()
        .iter()
        .map(|c| short(&c.at).chars().count())
        .chain(whole.limits().iter().map(|l| short(&l.at).chars().count()))
        .max()
        .unwrap_or(0);
    for change in whole.changes() {
        let _ = writeln!(
            out,
            "  {:at_width$}  {}\n  {:at_width$}    → {}: {}",
            short(&change.at),
            change.directive,
            "",
            folder
                .as_deref()
                .map_or_else(|| change.became.clone(), |f| change.became.replace(f, "")),
            change.why
        );
    }
    if whole.changes().is_empty() {
        let _ = writeln!(out, "  (nothing changed)");
    }
    if !whole.limits().is_empty() {
        let _ = writeln!(
            out,
            "squid-conf: not mapped — a property named here is reported inconclusive unless it fails:"
        );
        for limit in whole.limits() {
            let properties = if limit.properties.is_empty() {
                "no property depends on it".to_owned()
            } else {
                limit
                    .properties
                    .iter()
                    .map(|p| p.tag())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let _ = writeln!(
                out,
                "  {:at_width$}  {}\n  {:at_width$}    → {}\n  {:at_width$}    inconclusive unless failed: {properties}",
                short(&limit.at),
                limit.directive,
                "",
                limit.consequence,
                ""
            );
        }
    }
    out
}
