//! The syntax tree of a CPL policy: definitions, layers with their guards, sections, and
//! rules made of triggers, properties and actions. Every node keeps its [`Span`]; names are
//! kept as written and compared case-insensitively, as CPL does.

use std::collections::HashMap;
use std::fmt;

use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// A parsed policy file. Rules written outside any layer are kept, each in a layer of kind
/// [`LayerKind::Outside`] of its own, so that lint can report them and `explain` can still
/// show what they would do.
#[derive(Debug, Clone)]
pub struct Policy {
    pub file_name: String,
    pub source: String,
    pub layers: Vec<Layer>,
    pub conditions: Vec<ConditionDefinition>,
    pub other_definitions: Vec<OtherDefinition>,
    /// Mistakes the parser recovered from; `lint` reports them with its own findings.
    pub parse_diagnostics: Vec<Diagnostic>,
    /// Lower-cased condition name → index of its first definition in `conditions`.
    #[doc(hidden)]
    pub condition_index: HashMap<String, usize>,
    /// Rule and entry indexes by host (see the `index` module).
    #[doc(hidden)]
    pub index: crate::policy_index::PolicyIndex,
}

impl Policy {
    /// The condition defined under `name`, compared case-insensitively.
    pub fn condition(&self, name: &str) -> Option<&ConditionDefinition> {
        let index = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.condition_index.get(&name.to_ascii_lowercase())
        } else {
            self.condition_index.get(name)
        };
        index.and_then(|&index| self.conditions.get(index))
    }

    /// Builds [`Policy::condition_index`] from `conditions`.
    pub(crate) fn index_conditions(&mut self) {
        self.index = crate::policy_index::PolicyIndex::build(&self.layers, &self.conditions);
        self.condition_index.clear();
        for (index, definition) in self.conditions.iter().enumerate() {
            self.condition_index
                .entry(definition.name.key())
                .or_insert(index);
        }
    }

    /// The names of `define KIND NAME` definitions other than conditions (`subnet`, `string`,
    /// `action`, `category` …), as written.
    pub fn defined(&self, kind: &str) -> impl Iterator<Item = &Name> {
        let kind = kind.to_ascii_lowercase();
        self.other_definitions
            .iter()
            .filter(move |d| d.keywords.eq_ignore_ascii_case(&kind))
            .filter_map(|d| d.name.as_ref())
    }

    /// Every rule with the layer and section it belongs to, in source order.
    pub fn rules(&self) -> impl Iterator<Item = (&Layer, &Section, &Rule)> {
        self.layers.iter().flat_map(|layer| {
            layer.sections.iter().flat_map(move |section| {
                section.rules.iter().map(move |rule| (layer, section, rule))
            })
        })
    }

    /// Every rule with what it effectively tests and sets: its layer's guard, its section's
    /// guard, then its own items.
    pub fn guarded_rules(&self) -> impl Iterator<Item = (Vec<&Item>, &Rule)> {
        self.rules().map(|(layer, section, rule)| {
            let items = layer
                .guard
                .iter()
                .chain(&section.guard)
                .chain(&rule.items)
                .collect();
            (items, rule)
        })
    }

    /// Every trigger of the policy: in guards, rules and condition definitions.
    pub fn triggers(&self) -> Vec<&Trigger> {
        let guards = self.layers.iter().flat_map(|layer| {
            layer
                .guard
                .iter()
                .chain(layer.sections.iter().flat_map(|s| s.guard.iter()))
        });
        let rules = self.rules().flat_map(|(_, _, rule)| rule.items.iter());
        let definitions = self
            .conditions
            .iter()
            .flat_map(|d| d.entries.iter().flat_map(|e| e.items.iter()));
        guards
            .chain(rules)
            .chain(definitions)
            .filter_map(Item::as_trigger)
            .collect()
    }

    /// The source text of `span`, with line continuations and runs of blanks folded into
    /// single spaces.
    pub fn text_of(&self, span: Span) -> String {
        let text = self.source.get(span.range()).unwrap_or_default();
        text.split_whitespace()
            .filter(|word| *word != "\\")
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerKind {
    Proxy,
    Cache,
    SslIntercept,
    Ssl,
    Admin,
    Forward,
    Exception,
    DnsProxy,
    /// A layer header this tool does not know, as written.
    Unknown(String),
    /// Not a layer: a rule (or section) written before any layer header.
    Outside,
}

impl LayerKind {
    pub const KNOWN: [&'static str; 8] = [
        "Proxy",
        "Cache",
        "SSL-Intercept",
        "SSL",
        "Admin",
        "Forward",
        "Exception",
        "DNS-Proxy",
    ];

    pub fn from_header(name: &str) -> Self {
        match name.to_ascii_lowercase().as_str() {
            "proxy" => Self::Proxy,
            "cache" => Self::Cache,
            "ssl-intercept" => Self::SslIntercept,
            "ssl" => Self::Ssl,
            "admin" => Self::Admin,
            "forward" => Self::Forward,
            "exception" => Self::Exception,
            "dns-proxy" => Self::DnsProxy,
            _ => Self::Unknown(name.to_owned()),
        }
    }

    /// Layers evaluated only for TLS connections.
    pub fn is_tls_only(&self) -> bool {
        matches!(self, Self::SslIntercept | Self::Ssl)
    }
}

impl fmt::Display for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Proxy => "Proxy",
            Self::Cache => "Cache",
            Self::SslIntercept => "SSL-Intercept",
            Self::Ssl => "SSL",
            Self::Admin => "Admin",
            Self::Forward => "Forward",
            Self::Exception => "Exception",
            Self::DnsProxy => "DNS-Proxy",
            Self::Unknown(name) => name,
            Self::Outside => return f.write_str("(outside any layer)"),
        };
        write!(f, "<{name}>")
    }
}

#[derive(Debug, Clone)]
pub struct Layer {
    pub kind: LayerKind,
    pub label: Option<Name>,
    /// Triggers that must all hold before the layer is evaluated, and properties set when
    /// one of its rules matches.
    pub guard: Vec<Item>,
    pub sections: Vec<Section>,
    /// The header, or for [`LayerKind::Outside`] the rule or section it holds.
    pub span: Span,
}

impl Layer {
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.sections
            .iter()
            .flat_map(|section| section.rules.iter())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionKind {
    /// Rules written directly in the layer, before any section header.
    Implicit,
    Rule,
    Url,
    UrlDomain,
    UrlRegex,
    ServerUrlDomain,
    Unknown(String),
}

impl SectionKind {
    pub fn from_header(name: &str) -> Self {
        match name.to_ascii_lowercase().as_str() {
            "rule" => Self::Rule,
            "url" => Self::Url,
            "url.domain" => Self::UrlDomain,
            "url.regex" => Self::UrlRegex,
            "server_url.domain" => Self::ServerUrlDomain,
            _ => Self::Unknown(name.to_owned()),
        }
    }

    /// The trigger the first word of each rule stands for in pattern sections.
    pub fn pattern_trigger(&self) -> Option<&'static str> {
        match self {
            Self::Url => Some("url"),
            Self::UrlDomain => Some("url.domain"),
            Self::UrlRegex => Some("url.regex"),
            Self::ServerUrlDomain => Some("server_url.domain"),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Section {
    pub kind: SectionKind,
    pub guard: Vec<Item>,
    pub rules: Vec<Rule>,
    /// The header; `None` for [`SectionKind::Implicit`].
    pub span: Option<Span>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub items: Vec<Item>,
    pub span: Span,
}

impl Rule {
    pub fn triggers(&self) -> impl Iterator<Item = &Trigger> {
        self.items.iter().filter_map(Item::as_trigger)
    }

    pub fn properties(&self) -> impl Iterator<Item = &Property> {
        self.items.iter().filter_map(|item| match item {
            Item::Property(property) => Some(property),
            _ => None,
        })
    }
}

#[derive(Debug, Clone)]
pub enum Item {
    Trigger(Trigger),
    Property(Property),
    Action(Action),
    /// Text that is none of the above; a rule holding one never matches.
    Malformed(Malformed),
}

impl Item {
    pub fn as_trigger(&self) -> Option<&Trigger> {
        match self {
            Item::Trigger(trigger) => Some(trigger),
            _ => None,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Item::Trigger(trigger) => trigger.span,
            Item::Property(property) => property.span,
            Item::Action(action) => action.span,
            Item::Malformed(malformed) => malformed.span,
        }
    }
}

/// An identifier as written, with its span.
#[derive(Debug, Clone)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

impl Name {
    /// Case-insensitive comparison, as CPL compares names.
    pub fn is(&self, other: &str) -> bool {
        self.text.eq_ignore_ascii_case(other)
    }

    pub fn key(&self) -> String {
        self.text.to_ascii_lowercase()
    }
}

/// `name=value`, `name=!value`, `!name=value`, `name=(a, b)`.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub name: Name,
    pub negated: bool,
    pub value: ValueExpr,
    pub span: Span,
    /// What the name tests, worked out once when parsed.
    pub(crate) test: crate::trigger_test::Test,
}

impl Trigger {
    /// The atoms of the value, each with whether it is tested negatively.
    pub fn atoms(&self) -> Vec<(&Atom, bool)> {
        let mut atoms = Vec::new();
        self.value.collect_atoms(self.negated, &mut atoms);
        atoms
    }
}

#[derive(Debug, Clone)]
pub enum ValueExpr {
    Atom(Atom),
    Not(Box<ValueExpr>),
    /// `(a, b)` or `a || b`: any of them.
    Any(Vec<ValueExpr>),
    /// `a && b`: all of them.
    All(Vec<ValueExpr>),
}

impl ValueExpr {
    fn collect_atoms<'a>(&'a self, negated: bool, atoms: &mut Vec<(&'a Atom, bool)>) {
        match self {
            ValueExpr::Atom(atom) => atoms.push((atom, negated)),
            ValueExpr::Not(inner) => inner.collect_atoms(!negated, atoms),
            ValueExpr::Any(items) | ValueExpr::All(items) => {
                for item in items {
                    item.collect_atoms(negated, atoms);
                }
            }
        }
    }
}

/// A word or a quoted string (`text` without its quotes).
#[derive(Debug, Clone)]
pub struct Atom {
    pub text: String,
    pub quoted: bool,
    pub span: Span,
}

/// `name(value, …)`.
#[derive(Debug, Clone)]
pub struct Property {
    pub name: Name,
    pub args: Vec<Atom>,
    pub span: Span,
    /// Written with a blank between the name and `(`.
    pub spaced: bool,
}

impl Property {
    /// The first argument, lower-cased: the value that decides.
    pub fn value(&self) -> String {
        self.args
            .first()
            .map(|arg| arg.text.to_ascii_lowercase())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
pub struct Action {
    pub kind: ActionKind,
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Malformed {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionKind {
    /// `define condition`: each line a conjunction of triggers.
    Condition,
    /// `define url condition`: each line a URL prefix pattern (complete host names).
    Url,
    /// `define url.domain condition`: each line a domain-suffix pattern.
    UrlDomain,
    /// `define server_url.domain condition`.
    ServerUrlDomain,
    /// `define url.regex condition`: each line a regular expression over the URL.
    UrlRegex,
}

impl ConditionKind {
    /// The words between `define` and the name, as CPL writes them.
    pub fn keywords(self) -> &'static str {
        match self {
            Self::Condition => "condition",
            Self::Url => "url condition",
            Self::UrlDomain => "url.domain condition",
            Self::ServerUrlDomain => "server_url.domain condition",
            Self::UrlRegex => "url.regex condition",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConditionDefinition {
    pub kind: ConditionKind,
    pub name: Name,
    pub entries: Vec<ConditionEntry>,
    /// The `define …` line.
    pub span: Span,
    /// The `end …` line, if there is one.
    pub end: Option<Span>,
}

/// One line of a condition definition: any line may match (OR); within a line the pattern
/// and every trigger must (AND).
#[derive(Debug, Clone)]
pub struct ConditionEntry {
    pub pattern: Option<Atom>,
    pub items: Vec<Item>,
    pub span: Span,
}

/// A definition this tool does not model (`define subnet`, `define action`, …).
#[derive(Debug, Clone)]
pub struct OtherDefinition {
    pub keywords: String,
    pub name: Option<Name>,
    pub span: Span,
}
