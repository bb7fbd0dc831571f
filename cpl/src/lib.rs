//! ProxySG Content Policy Language (CPL) for Windows Update bypass policies such as the one in
//! Broadcom KB 166719: a hand-written parser (no CPL crate exists) that keeps every node's
//! source span, a linter with rustc-style diagnostics, an evaluator that explains how a
//! policy treats one request, and a translator to a Squid policy fragment under the lab
//! contract (`docs/policy-contract.md`).
//!
//! ```
//! let source = "define url.domain condition WU\nwindowsupdate.com\nend\n<Proxy>\ncondition=WU authenticate(no)\n";
//! let policy = cpl::parse(source, "wu.cpl").unwrap();
//! let explanation = cpl::explain(&policy, "http://download.windowsupdate.com/").unwrap();
//! assert_eq!(explanation.value(cpl::Decision::Authenticate), "no");
//! ```

mod ast;
mod cli;
mod coverage;
mod decision;
mod diagnostic;
mod evaluate;
mod explain;
mod index;
mod lexer;
mod lint;
mod names;
mod output;
mod parser;
mod policy_index;
mod reference;
mod request;
mod span;
mod to_squid;
mod trigger_test;
mod update_assessment;
mod update_traffic;

pub use ast::{
    Action, ActionKind, Atom, ConditionDefinition, ConditionEntry, ConditionKind, Item, Layer,
    LayerKind, Malformed, Name, OtherDefinition, Policy, Property, Rule, Section, SectionKind,
    Trigger, ValueExpr,
};
pub use cli::{
    load, run_command, CplCommand, CplError, CplStatus, ExplainArgs, Format, LintArgs, Requirement,
    ToSquidArgs,
};
pub use decision::Decision;
pub use diagnostic::{render_report, Diagnostic, Label, Severity};
pub use explain::{
    explain, explain_request, DecisionReport, Explanation, LayerReport, PropertyReport, RuleReport,
    TraceStatus,
};
pub use lint::{lint, lint_with, LintOptions};
pub use output::{to_json, to_sarif};
pub use parser::parse;
pub use request::{InvalidUrl, Request};
pub use span::{Location, Span};
pub use to_squid::{to_squid, Translation, Untranslated};
pub use update_traffic::{windows_update_traffic, UpdateFamily, UpdateRequest, UPDATE_FAMILIES};
