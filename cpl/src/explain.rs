//! `explain`: a policy trace of one request, in the manner of the appliance's own policy
//! trace. Every layer in order, and in it every rule as `MATCH`, `miss`, `undecided` (a
//! trigger the URL alone cannot decide: users, groups, time, headers … — taken as not
//! matching) or `not reached` (an earlier rule matched); a skipped layer's rules are `n/a`.
//! Then the decisions KB 166719 cares about — access (with `exception()`, `force_deny` and
//! `deny.unauthorized` semantics), authenticate, bypass_cache, detect_protocol, the ICAP
//! services, webpulse.categorize.mode, pipeline and ssl.forward_proxy — each with the place
//! that set it or CPL's own default ([`crate::Decision::cpl_default`]), then every other
//! property that ends up set, and the undecided triggers.

use std::fmt;

use crate::ast::{LayerKind, Policy};
use crate::decision::Decision;
use crate::evaluate::{evaluate_in, LayerResult, Mode, Outcome, RuleStatus};
use crate::request::{InvalidUrl, Request};
use crate::span::{Location, Span};

/// A rule as the explanation shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReport {
    pub location: Location,
    /// The rule's source text on one line.
    pub text: String,
}

/// What became of one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceStatus {
    Matched,
    Missed,
    /// Could not be decided from the URL, with why; taken as not matching.
    Undecided(String),
    /// An earlier rule of the layer matched.
    NotReached,
    /// The layer was skipped (guard false or undecided, or TLS only).
    NotApplicable,
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
    /// Every rule of the layer, in order, with what became of it.
    pub rules: Vec<(RuleReport, TraceStatus)>,
}

/// The value a decision ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionReport {
    pub decision: Decision,
    pub value: String,
    /// The property or action that set it; `None` when CPL's default applies.
    pub set_at: Option<Location>,
    /// Why the decision does not apply to this request (ssl.forward_proxy over plain HTTP).
    pub not_applicable: Option<&'static str>,
}

/// A property outside [`Decision`] that a matching rule sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyReport {
    pub name: String,
    pub value: String,
    pub set_at: Location,
}

/// How a policy treats one request. `Display` prints the trace for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub url: String,
    pub host: String,
    pub tls: bool,
    pub file: String,
    pub layers: Vec<LayerReport>,
    pub decisions: Vec<DecisionReport>,
    pub properties: Vec<PropertyReport>,
    /// The request's method, when it was given.
    pub method: Option<String>,
    /// Over TLS, the policy does not intercept the connection (`ssl.forward_proxy` set to a
    /// bypass value): the proxy sees only the tunnel's `CONNECT`, not this request.
    pub tunnelled: bool,
}

impl Explanation {
    /// The value `decision` ends with (CPL's default when nothing sets it).
    pub fn value(&self, decision: Decision) -> &str {
        self.decisions
            .iter()
            .find(|report| report.decision == decision)
            .map_or(decision.cpl_default(), |report| report.value.as_str())
    }

    /// Whether a rule set `decision` (rather than the default applying).
    pub fn is_set(&self, decision: Decision) -> bool {
        self.decisions
            .iter()
            .any(|report| report.decision == decision && report.set_at.is_some())
    }

    pub fn matched_rules(&self) -> impl Iterator<Item = &RuleReport> {
        self.layers
            .iter()
            .filter_map(|layer| layer.matched.as_ref())
    }

    /// Whether some rule could not be decided from the URL.
    pub fn has_undecided(&self) -> bool {
        self.layers.iter().any(|l| !l.undetermined.is_empty())
    }
}

/// Evaluates `policy` for the request to `url` (absolute, with a host; `https` means a TLS
/// connection, so `<SSL-Intercept>` layers and certificate triggers apply).
pub fn explain(policy: &Policy, url: &str) -> Result<Explanation, InvalidUrl> {
    Ok(explain_request(policy, &Request::parse(url)?))
}

/// [`explain`] for a request that may also say its method and headers (method and header
/// triggers are then decided), such as one of [`crate::windows_update_traffic`].
pub fn explain_request(policy: &Policy, request: &Request) -> Explanation {
    let request = request.clone();
    let mode = Mode {
        trace: true,
        ..Mode::default()
    };
    let evaluation = evaluate_in(policy, &request, mode);
    let file = policy.file_name.as_str();
    let layers = evaluation
        .layers
        .iter()
        .map(|result| layer_report(policy, result))
        .collect();
    let decisions = Decision::ALL
        .into_iter()
        .map(|decision| {
            let setting = evaluation.settings.get(&decision);
            let not_applicable = (decision.is_tls_only() && !request.is_tls())
                .then_some("plain HTTP: no TLS to intercept");
            DecisionReport {
                decision,
                value: setting.map_or(decision.cpl_default().to_owned(), |s| s.value.clone()),
                set_at: setting.map(|s| Location::new(file, s.span)),
                not_applicable,
            }
        })
        .collect();
    let properties = evaluation
        .properties
        .iter()
        .filter(|(name, _)| Decision::of_property(name).is_none())
        .map(|(name, setting)| PropertyReport {
            name: name.clone(),
            value: setting.value.clone(),
            set_at: Location::new(file, setting.span),
        })
        .collect();
    Explanation {
        url: request.url.clone(),
        host: request.host.clone(),
        tls: request.is_tls(),
        file: file.to_owned(),
        layers,
        decisions,
        properties,
        tunnelled: request.is_tls()
            && !request
                .method
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case("CONNECT"))
            && evaluation.bypasses(Decision::SslForwardProxy),
        method: request.method.clone(),
    }
}

fn rule_report(policy: &Policy, span: Span) -> RuleReport {
    RuleReport {
        location: Location::new(&policy.file_name, span),
        text: policy.text_of(span),
    }
}

/// One layer of the trace: the rule that matched or why none applied, and every rule's status.
fn layer_report(policy: &Policy, result: &LayerResult<'_>) -> LayerReport {
    let (matched, skipped) = match &result.outcome {
        Outcome::Matched(_, rule) => (Some(rule_report(policy, rule.span)), None),
        Outcome::NoMatch => (None, Some("no rule matches".to_owned())),
        Outcome::GuardFalse => (
            None,
            Some("not applicable: its guard does not hold".to_owned()),
        ),
        Outcome::GuardUndetermined(why) => (
            None,
            Some(format!(
                "not applicable: its guard is undecided ({why}), taken as false"
            )),
        ),
        Outcome::TlsOnly => (
            None,
            Some("not applicable: evaluated for TLS connections only".to_owned()),
        ),
    };
    let rules = if result.trace.is_empty() {
        result
            .layer
            .rules()
            .map(|rule| (rule_report(policy, rule.span), TraceStatus::NotApplicable))
            .collect()
    } else {
        result
            .trace
            .iter()
            .map(|(rule, status)| {
                let status = match status {
                    RuleStatus::Matched => TraceStatus::Matched,
                    RuleStatus::Missed => TraceStatus::Missed,
                    RuleStatus::Undecided(why) => TraceStatus::Undecided(why.clone()),
                    RuleStatus::NotReached => TraceStatus::NotReached,
                };
                (rule_report(policy, rule.span), status)
            })
            .collect()
    };
    let layer = match (&result.layer.kind, &result.layer.label) {
        (LayerKind::Outside, _) | (_, None) => result.layer.kind.to_string(),
        (kind, Some(label)) => {
            format!("{} {}>", kind.to_string().trim_end_matches('>'), label.text)
        }
    };
    LayerReport {
        location: Location::new(&policy.file_name, result.layer.span),
        layer,
        matched,
        skipped,
        undetermined: result
            .undetermined
            .iter()
            .map(|(rule, why)| (rule_report(policy, rule.span), why.clone()))
            .collect(),
        rules,
    }
}

/// Runs of missed (or not applicable) rules longer than this are folded into one line.
const FOLD_FROM: usize = 6;

fn status_word(status: &TraceStatus) -> &'static str {
    match status {
        TraceStatus::Matched => "MATCH",
        TraceStatus::Missed => "miss",
        TraceStatus::Undecided(_) => "undecided",
        TraceStatus::NotReached => "not reached",
        TraceStatus::NotApplicable => "n/a",
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let connection = if self.tls { "TLS" } else { "plain HTTP" };
        match &self.method {
            Some(method) => writeln!(
                f,
                "request: {method} {} (host {}, {connection})",
                self.url, self.host
            )?,
            None => writeln!(
                f,
                "request: {} (host {}, {connection})",
                self.url, self.host
            )?,
        }
        writeln!(f, "policy:  {}", self.file)?;
        writeln!(f)?;
        writeln!(
            f,
            "trace (layers in order; in each the first matching rule wins; a later layer overrides an earlier one):"
        )?;
        if self.layers.is_empty() {
            writeln!(f, "  (no layers)")?;
        }
        for layer in &self.layers {
            write!(f, "  {}  {}", layer.location, layer.layer)?;
            match &layer.skipped {
                Some(why) => writeln!(f, "  -- {why}")?,
                None => writeln!(f)?,
            }
            write_rules(f, &layer.rules)?;
        }
        writeln!(f)?;
        self.write_decisions(f)?;
        self.write_undecided(f)
    }
}

/// A layer's rules with their status, long runs of rules that did not apply folded.
fn write_rules(f: &mut fmt::Formatter<'_>, rules: &[(RuleReport, TraceStatus)]) -> fmt::Result {
    let mut index = 0;
    while index < rules.len() {
        let (rule, status) = &rules[index];
        let run = rules[index..]
            .iter()
            .take_while(|(_, s)| s == status)
            .count();
        if run >= FOLD_FROM
            && matches!(
                status,
                TraceStatus::Missed | TraceStatus::NotApplicable | TraceStatus::NotReached
            )
        {
            let last = &rules[index + run - 1].0;
            writeln!(
                f,
                "      {:<11}  {} rules, lines {}-{}",
                status_word(status),
                run,
                rule.location.line,
                last.location.line
            )?;
            index += run;
            continue;
        }
        writeln!(
            f,
            "      {:<11}  {}  {}",
            status_word(status),
            rule.location,
            rule.text
        )?;
        if let TraceStatus::Undecided(why) = status {
            writeln!(f, "      {:<11}  taken as not matching: {why}", "")?;
        }
        index += 1;
    }
    Ok(())
}

impl Explanation {
    /// Each decision's value and where it comes from, then the other properties set.
    fn write_decisions(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "decisions:")?;
        let width = Decision::ALL
            .iter()
            .map(|d| d.cpl_name().len())
            .max()
            .unwrap_or(0);
        for report in &self.decisions {
            let name = report.decision.cpl_name();
            let (value, origin) = match (report.not_applicable, &report.set_at) {
                (Some(why), _) => ("n/a".to_owned(), format!("({why})")),
                (None, Some(location)) => (report.value.clone(), location.to_string()),
                (None, None) => (
                    report.value.clone(),
                    report.decision.default_note().to_owned(),
                ),
            };
            writeln!(f, "  {name:<width$}  {value:<8}  {origin}")?;
        }
        if self.tunnelled {
            writeln!(
                f,
                "\nnote: ssl.forward_proxy leaves this connection unintercepted: the proxy sees only its CONNECT, not this request; `--method CONNECT` traces what applies"
            )?;
        }
        if !self.properties.is_empty() {
            writeln!(f)?;
            writeln!(f, "other properties set:")?;
            for property in &self.properties {
                writeln!(
                    f,
                    "  {:<width$}  {:<8}  {}",
                    property.name, property.value, property.set_at
                )?;
            }
        }
        Ok(())
    }

    /// The rules that could not be decided for this request.
    fn write_undecided(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let undecided: Vec<&(RuleReport, String)> = self
            .layers
            .iter()
            .flat_map(|l| l.undetermined.iter())
            .collect();
        if !undecided.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "undecided (taken as not matching; the outcome may differ for some users, times or requests):"
            )?;
            for (rule, why) in undecided {
                writeln!(f, "  {}  {why}", rule.location)?;
            }
        }
        Ok(())
    }
}
