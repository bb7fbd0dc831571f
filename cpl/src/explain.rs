//! `explain`: which rules match one request and the value each decision KB 166719 cares
//! about ends with — access, authenticate, bypass_cache, detect_protocol, the ICAP services,
//! webpulse.categorize.mode, pipeline and ssl.forward_proxy — each with the place that set it,
//! or `(default)`: the baseline of [`crate::Decision::baseline`], a proxy that authenticates,
//! caches, adapts, categorises, pipelines and intercepts TLS.

use std::fmt;

use crate::ast::{LayerKind, Policy};
use crate::decision::Decision;
use crate::evaluate::{evaluate, Outcome};
use crate::request::{InvalidUrl, Request};
use crate::span::Location;

/// A rule as the explanation shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReport {
    pub location: Location,
    /// The rule's source text on one line.
    pub text: String,
}

/// What one layer did with the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerReport {
    pub location: Location,
    /// `<Proxy>`, `<SSL-Intercept>`, `(outside any layer)` …
    pub layer: String,
    pub matched: Option<RuleReport>,
    /// Why no rule applied, when none did.
    pub skipped: Option<String>,
    /// Rules that could not be decided from the URL, taken as not matching, with why.
    pub undetermined: Vec<(RuleReport, String)>,
}

/// The value a decision ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionReport {
    pub decision: Decision,
    pub value: String,
    /// The property or action that set it; `None` when the baseline applies.
    pub set_at: Option<Location>,
    /// Why the decision does not apply to this request (ssl.forward_proxy over plain HTTP).
    pub not_applicable: Option<&'static str>,
}

/// How a policy treats one request. `Display` prints it for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub url: String,
    pub host: String,
    pub tls: bool,
    pub file: String,
    pub layers: Vec<LayerReport>,
    pub decisions: Vec<DecisionReport>,
}

impl Explanation {
    /// The value `decision` ends with (the baseline when nothing sets it).
    pub fn value(&self, decision: Decision) -> &str {
        self.decisions
            .iter()
            .find(|report| report.decision == decision)
            .map_or(decision.baseline(), |report| report.value.as_str())
    }

    pub fn matched_rules(&self) -> impl Iterator<Item = &RuleReport> {
        self.layers
            .iter()
            .filter_map(|layer| layer.matched.as_ref())
    }
}

/// Evaluates `policy` for the request to `url` (absolute, with a host; `https` means a TLS
/// connection, so `<SSL-Intercept>` layers and certificate triggers apply).
pub fn explain(policy: &Policy, url: &str) -> Result<Explanation, InvalidUrl> {
    let request = Request::parse(url)?;
    let evaluation = evaluate(policy, &request);
    let file = policy.file_name.as_str();
    let rule_report = |span| RuleReport {
        location: Location::new(file, span),
        text: policy.text_of(span),
    };
    let layers = evaluation
        .layers
        .iter()
        .map(|result| {
            let (matched, skipped) = match &result.outcome {
                Outcome::Matched(_, rule) => (Some(rule_report(rule.span)), None),
                Outcome::NoMatch => (None, Some("no rule matches".to_owned())),
                Outcome::GuardFalse => (None, Some("skipped: its guard does not hold".to_owned())),
                Outcome::GuardUndetermined(why) => (
                    None,
                    Some(format!("skipped: its guard is undetermined ({why})")),
                ),
                Outcome::TlsOnly => (
                    None,
                    Some("skipped: evaluated for TLS connections only".to_owned()),
                ),
            };
            let layer = match (&result.layer.kind, &result.layer.label) {
                (LayerKind::Outside, _) | (_, None) => result.layer.kind.to_string(),
                (kind, Some(label)) => {
                    format!("{} {}>", kind.to_string().trim_end_matches('>'), label.text)
                }
            };
            LayerReport {
                location: Location::new(file, result.layer.span),
                layer,
                matched,
                skipped,
                undetermined: result
                    .undetermined
                    .iter()
                    .map(|(rule, why)| (rule_report(rule.span), why.clone()))
                    .collect(),
            }
        })
        .collect();
    let decisions = Decision::ALL
        .into_iter()
        .map(|decision| {
            let setting = evaluation.settings.get(&decision);
            let not_applicable = (decision.is_tls_only() && !request.is_tls())
                .then_some("plain HTTP: no TLS to intercept");
            DecisionReport {
                decision,
                value: evaluation.value(decision).to_owned(),
                set_at: setting.map(|s| Location::new(file, s.span)),
                not_applicable,
            }
        })
        .collect();
    Ok(Explanation {
        url: request.url.clone(),
        host: request.host.clone(),
        tls: request.is_tls(),
        file: file.to_owned(),
        layers,
        decisions,
    })
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let connection = if self.tls { "TLS" } else { "plain HTTP" };
        writeln!(
            f,
            "request: {} (host {}, {connection})",
            self.url, self.host
        )?;
        writeln!(f, "policy:  {}", self.file)?;
        writeln!(f)?;
        writeln!(
            f,
            "layers, in order (in each the first matching rule wins; a later layer overrides an earlier one):"
        )?;
        if self.layers.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for layer in &self.layers {
            writeln!(f, "  {}  {}", layer.location, layer.layer)?;
            if let Some(rule) = &layer.matched {
                writeln!(f, "      matches    {}  {}", rule.location, rule.text)?;
            }
            for (rule, why) in &layer.undetermined {
                writeln!(f, "      undecided  {}  {}", rule.location, rule.text)?;
                writeln!(f, "                 taken as not matching: {why}")?;
            }
            if let Some(skipped) = &layer.skipped {
                writeln!(f, "      {skipped}")?;
            }
        }
        writeln!(f)?;
        writeln!(f, "decisions:")?;
        let width = Decision::ALL
            .iter()
            .map(|d| d.cpl_name().len())
            .max()
            .unwrap_or(0);
        let mut defaults = false;
        for report in &self.decisions {
            let name = report.decision.cpl_name();
            let (value, origin) = match (report.not_applicable, &report.set_at) {
                (Some(why), _) => ("n/a".to_owned(), format!("({why})")),
                (None, Some(location)) => (report.value.clone(), location.to_string()),
                (None, None) => {
                    defaults = true;
                    (report.value.clone(), "(default)".to_owned())
                }
            };
            writeln!(f, "  {name:<width$}  {value:<8}  {origin}")?;
        }
        if defaults {
            writeln!(f)?;
            writeln!(
                f,
                "(default): no matching rule sets it; the value is the baseline a bypass is written against, a proxy that authenticates, caches, adapts (ICAP), categorises, pipelines and intercepts TLS"
            )?;
        }
        Ok(())
    }
}
