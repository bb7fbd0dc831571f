//! Names and references, checked against the CPL Guide's reference ([`crate::reference`]):
//! trigger and property names (with "did you mean" for near misses), each trigger and
//! property against the layers that allow it — following `condition=` into the definitions it
//! names, since a condition is evaluated in the layer that tests it — and the references a
//! policy makes to its own definitions: subnets, actions, strings, categories, exception ids.

use std::collections::HashSet;

use crate::ast::{Atom, Item, Layer, LayerKind, Name, Policy, Property, Trigger};
use crate::diagnostic::Diagnostic;
use crate::reference::{self, describe_layers, layer_bit, Layers};

pub(crate) fn check(policy: &Policy) -> Vec<Diagnostic> {
    let mut checker = Checker {
        policy,
        diagnostics: Vec::new(),
        reported: HashSet::new(),
    };
    for layer in &policy.layers {
        let bit = layer_bit(&layer.kind);
        for item in layer_items(layer) {
            checker.item(item, bit.map(|b| (b, layer)));
        }
    }
    for definition in &policy.conditions {
        for entry in &definition.entries {
            for item in &entry.items {
                checker.item(item, None);
            }
        }
    }
    checker.diagnostics
}

fn layer_items(layer: &Layer) -> impl Iterator<Item = &Item> {
    layer
        .guard
        .iter()
        .chain(layer.sections.iter().flat_map(|s| s.guard.iter()))
        .chain(layer.rules().flat_map(|r| r.items.iter()))
}

struct Checker<'p> {
    policy: &'p Policy,
    diagnostics: Vec<Diagnostic>,
    /// (span start, layer bit) already reported, so one definition used by many rules is
    /// reported once per layer type.
    reported: HashSet<(usize, Layers)>,
}

impl<'p> Checker<'p> {
    fn file(&self) -> &'p str {
        &self.policy.file_name
    }

    fn item(&mut self, item: &'p Item, layer: Option<(Layers, &'p Layer)>) {
        match item {
            Item::Trigger(trigger) => self.trigger(trigger, layer),
            Item::Property(property) => self.property(property, layer),
            Item::Action(_) | Item::Malformed(_) => {}
        }
    }

    fn trigger(&mut self, trigger: &'p Trigger, layer: Option<(Layers, &'p Layer)>) {
        let written = &trigger.name.text;
        let Some((base, allowed)) = reference::trigger(written) else {
            if self.reported.insert((trigger.name.span.start, 0)) {
                self.unknown_trigger(&trigger.name);
            }
            return;
        };
        if let Some((bit, layer)) = layer {
            self.check_layer(written, trigger.name.span, allowed, bit, layer, None);
            if base == "condition" {
                let mut visited = HashSet::new();
                for (atom, _) in trigger.atoms() {
                    self.condition_in_layer(atom, bit, layer, &mut visited);
                }
            }
        }
        if reference::takes_subnet(base) {
            for (atom, _) in trigger.atoms() {
                self.subnet(atom);
            }
        }
        if base == "category" || base.ends_with(".category") {
            for (atom, _) in trigger.atoms() {
                self.near_category(atom);
            }
        }
    }

    fn unknown_trigger(&mut self, name: &Name) {
        let diagnostic = match reference::suggest_trigger(&name.text) {
            Some(near) => Diagnostic::error(self.file(), format!("unknown trigger `{}=`", name.text))
                .code("unknown-name")
                .at(name.span, "not a condition of the CPL Guide")
                .help(format!("did you mean `{near}=`?")),
            None => Diagnostic::warning(
                self.file(),
                format!("`{}=` is not in this tool's reference of CPL triggers", name.text),
            )
            .code("unknown-name")
            .at(name.span, "unknown trigger")
            .note("if the appliance's release has it, ignore this; the policy does not compile otherwise"),
        };
        self.diagnostics.push(diagnostic);
    }

    /// The triggers of the condition `atom` names, checked against the layer that tests it.
    fn condition_in_layer(
        &mut self,
        atom: &Atom,
        bit: Layers,
        layer: &'p Layer,
        visited: &mut HashSet<String>,
    ) {
        if !visited.insert(atom.text.to_ascii_lowercase()) {
            return;
        }
        let Some(definition) = self.policy.condition(&atom.text) else {
            return;
        };
        for entry in &definition.entries {
            for item in &entry.items {
                let Item::Trigger(trigger) = item else {
                    continue;
                };
                let Some((base, allowed)) = reference::trigger(&trigger.name.text) else {
                    continue;
                };
                self.check_layer(
                    &trigger.name.text,
                    trigger.name.span,
                    allowed,
                    bit,
                    layer,
                    Some(atom),
                );
                if base == "condition" {
                    for (inner, _) in trigger.atoms() {
                        self.condition_in_layer(inner, bit, layer, visited);
                    }
                }
            }
        }
    }

    fn check_layer(
        &mut self,
        written: &str,
        span: crate::span::Span,
        allowed: Layers,
        bit: Layers,
        layer: &Layer,
        via: Option<&Atom>,
    ) {
        if allowed & bit != 0 || !self.reported.insert((span.start, bit)) {
            return;
        }
        let what = if allowed == reference::ANY {
            return;
        } else {
            describe_layers(allowed)
        };
        let mut diagnostic = Diagnostic::error(
            self.file(),
            format!("`{written}` cannot be used in a {} layer", layer.kind),
        )
        .code("wrong-layer")
        .at(span, format!("the CPL Guide allows it in {what}"));
        if let Some(atom) = via {
            diagnostic = diagnostic.also_at(
                atom.span,
                format!("the condition is tested in a {} layer here", layer.kind),
            );
        }
        diagnostic = diagnostic.also_at(layer.span, "the layer");
        if layer.kind == LayerKind::Cache && allowed & reference::CACHE == 0 {
            diagnostic = diagnostic.note("<Cache> layers are evaluated for cache transactions too, which have no client: the Guide forbids client, user and time-of-request tests there");
        }
        self.diagnostics
            .push(diagnostic.note("the appliance refuses to compile the policy"));
    }

    fn property(&mut self, property: &'p Property, layer: Option<(Layers, &'p Layer)>) {
        let written = &property.name.text;
        let lowered = written.to_ascii_lowercase();
        for arg in &property.args {
            if !arg.quoted {
                self.near_definition(arg, "string", "string");
            }
        }
        let Some((_, allowed)) = reference::property(written) else {
            let diagnostic = match reference::closest(&lowered, reference::property_names()) {
                Some(near) => {
                    Diagnostic::error(self.file(), format!("unknown property `{written}()`"))
                        .code("unknown-name")
                        .at(property.name.span, "not a property of the CPL Guide")
                        .help(format!("did you mean `{near}()`?"))
                }
                None => Diagnostic::warning(
                    self.file(),
                    format!("`{written}()` is not in this tool's reference of CPL properties"),
                )
                .code("unknown-name")
                .at(property.name.span, "unknown property"),
            };
            self.diagnostics.push(diagnostic);
            return;
        };
        if let Some((bit, layer)) = layer {
            self.check_layer(written, property.name.span, allowed, bit, layer, None);
        }
        if let Some(action) = lowered.strip_prefix("action.") {
            let name = &written[written.len() - action.len()..];
            self.definition_reference(name, property.name.span, "action");
        }
        if lowered == "exception" || lowered == "force_exception" {
            if let Some(id) = property.args.first() {
                self.exception_id(id);
            }
        }
    }

    /// `action.NAME(…)` needs `define action NAME`.
    fn definition_reference(&mut self, name: &str, span: crate::span::Span, kind: &str) {
        let defined: Vec<&Name> = self.policy.defined(kind).collect();
        if defined.iter().any(|d| d.is(name)) {
            return;
        }
        let mut diagnostic =
            Diagnostic::error(self.file(), format!("{kind} `{name}` is not defined"))
                .code("undefined-reference")
                .at(span, format!("no `define {kind} {name}`"));
        if let Some(near) =
            reference::closest_defined(name, defined.iter().map(|d| d.text.as_str()))
        {
            diagnostic = diagnostic.help(format!("did you mean `{near}`?"));
        }
        self.diagnostics.push(diagnostic);
    }

    /// A subnet trigger's value: an address, a range or CIDR, or a `define subnet` name.
    fn subnet(&mut self, atom: &Atom) {
        let text = atom.text.trim();
        let is_address = text
            .chars()
            .all(|c| c.is_ascii_hexdigit() || ".:/-".contains(c))
            && text.chars().any(|c| c.is_ascii_digit() || c == ':');
        if is_address {
            return;
        }
        let defined: Vec<&Name> = self.policy.defined("subnet").collect();
        if defined.iter().any(|d| d.is(text)) {
            return;
        }
        let looks_like_a_name = text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !looks_like_a_name {
            return;
        }
        let mut diagnostic =
            Diagnostic::error(self.file(), format!("subnet `{text}` is not defined"))
                .code("undefined-reference")
                .at(
                    atom.span,
                    format!("not an address, and no `define subnet {text}`"),
                );
        if let Some(near) =
            reference::closest_defined(text, defined.iter().map(|d| d.text.as_str()))
                .or_else(|| containing(text, &defined))
        {
            diagnostic = diagnostic.help(format!("did you mean `{near}`?"));
        }
        self.diagnostics.push(diagnostic);
    }

    /// A bare word close to (but not) the name of a definition of `kind`: a misspelt reference.
    fn near_definition(&mut self, atom: &Atom, kind: &str, noun: &str) {
        let defined: Vec<&Name> = self.policy.defined(kind).collect();
        if defined.is_empty() || defined.iter().any(|d| d.is(&atom.text)) {
            return;
        }
        let Some(near) = reference::closest(&atom.text, defined.iter().map(|d| d.text.as_str()))
            .or_else(|| containing(&atom.text, &defined))
        else {
            return;
        };
        self.diagnostics.push(
            Diagnostic::error(
                self.file(),
                format!("{noun} `{}` is not defined", atom.text),
            )
            .code("undefined-reference")
            .at(atom.span, format!("no `define {kind} {}`", atom.text))
            .help(format!("did you mean `{near}`?")),
        );
    }

    /// A category one edit away from a `define category` name (and not that name): built-in
    /// categories are not known here, so only a near miss of the policy's own is reported.
    fn near_category(&mut self, atom: &Atom) {
        let defined: Vec<&Name> = self.policy.defined("category").collect();
        if defined.iter().any(|d| d.is(&atom.text)) {
            return;
        }
        let written = atom.text.to_ascii_lowercase();
        let Some(near) = defined
            .iter()
            .find(|d| written.len() > 5 && strsim::levenshtein(&written, &d.key()) == 1)
        else {
            return;
        };
        self.diagnostics.push(
            Diagnostic::error(
                self.file(),
                format!("category `{}` is not defined", atom.text),
            )
            .code("undefined-reference")
            .at(atom.span, format!("no `define category {}`", atom.text))
            .help(format!("did you mean `{}`?", near.text)),
        );
    }

    fn exception_id(&mut self, id: &Atom) {
        let text = id.text.to_ascii_lowercase();
        if text.starts_with("user_defined.") || reference::EXCEPTION_IDS.contains(&text.as_str()) {
            return;
        }
        if let Some(near) = reference::closest(&text, reference::EXCEPTION_IDS.iter().copied()) {
            self.diagnostics.push(
                Diagnostic::error(self.file(), format!("unknown exception id `{}`", id.text))
                    .code("undefined-reference")
                    .at(id.span, "not a built-in exception")
                    .help(format!("did you mean `{near}`? (user-defined exceptions are written `user_defined.NAME`)")),
            );
        }
    }
}

/// A defined name that contains `text` or is contained in it (`exception-page` and
/// `custom-exception-page`), when there is exactly one.
fn containing<'a>(text: &str, defined: &[&'a Name]) -> Option<&'a str> {
    let lowered = text.to_ascii_lowercase();
    if lowered.len() < 4 {
        return None;
    }
    let mut found = defined.iter().filter(|d| {
        let key = d.key();
        key.contains(&lowered) || lowered.contains(&key)
    });
    let first = found.next()?;
    found.next().is_none().then_some(first.text.as_str())
}

#[cfg(test)]
mod tests {
    use crate::lint::lint;
    use crate::parser::parse;

    fn findings(source: &str) -> Vec<(bool, usize, String, Vec<String>)> {
        let policy = parse(source, "t.cpl").unwrap();
        lint(&policy)
            .into_iter()
            .map(|d| {
                let line = d.location().map_or(0, |l| l.line);
                (d.is_error(), line, d.message, d.help)
            })
            .collect()
    }

    #[test]
    fn misspelt_names_get_a_suggestion_and_unknown_ones_a_warning() {
        let found =
            findings("<Proxy>\nurl.domin=a.com deny\nauthentiate(no)\nfrobnicate.widget=3 deny\n");
        assert!(found.iter().any(|(e, l, m, h)| *e
            && *l == 2
            && m.contains("url.domin")
            && h.iter().any(|h| h.contains("url.domain="))));
        assert!(found
            .iter()
            .any(|(e, l, _, h)| *e && *l == 3 && h.iter().any(|h| h.contains("authenticate()"))));
        assert!(found.iter().any(|(e, l, _, _)| !*e && *l == 4));
    }

    #[test]
    fn references_resolve_to_definitions() {
        let found = findings(
            "define subnet local_net\n10.0.0.0/8\nend\ndefine string custom-exception-page\ntext\nend\n<Proxy>\nclient.address=!local_subnet deny\nclient.address=10.1.0.0/16 deny\nurl.domain=a.com exception(policy_denyed)\nurl.domain=b.com authenticate(exception-page)\n",
        );
        let errors: Vec<usize> = found.iter().filter(|f| f.0).map(|f| f.1).collect();
        assert_eq!(errors, [8, 10, 11], "{found:?}");
        let found = findings(
            "define string custom-exception-page\ntext\nend\n<Exception>\nexception.id=policy_denied exception.format(exception-page)\n",
        );
        assert!(
            found.iter().any(|(e, l, m, h)| *e
                && *l == 5
                && m.contains("string `exception-page`")
                && h.iter().any(|h| h.contains("custom-exception-page"))),
            "{found:?}"
        );
    }

    #[test]
    fn conditions_are_checked_in_the_layer_that_tests_them() {
        let found = findings(
            "define condition Staff\nclient.address=10.0.0.0/8\nend\n<Cache>\ncondition=Staff cache(no)\n<Proxy>\ncondition=Staff bypass_cache(yes)\n",
        );
        let errors: Vec<(usize, &str)> = found
            .iter()
            .filter(|f| f.0)
            .map(|f| (f.1, f.2.as_str()))
            .collect();
        assert_eq!(errors.len(), 1, "{found:?}");
        assert_eq!(errors[0].0, 2);
        assert!(errors[0].1.contains("<Cache>"));
    }

    #[test]
    fn a_mistake_on_a_line_is_one_error() {
        let found = findings(
            "<Proxy>\ncategory=(violence, gambling exception(content_filter_denied)\nallow\n",
        );
        assert_eq!(found.iter().filter(|f| f.0).count(), 1, "{found:?}");
    }
}
