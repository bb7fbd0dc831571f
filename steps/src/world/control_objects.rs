//! The World's helpers for a control's objects of each kind: the objects served, each one's
//! exchanges and origin requests, and the judgement of which kinds held, kept as the note the
//! property's verdict quotes.

use conformance_client::Exchange;
use conformance_model::{ObjectKind, Property};
use mock_servers::OriginRequest;

use crate::control_objects::{control_problem, kinds_policed};
use crate::world::{ConformanceWorld, ControlObject};

impl ConformanceWorld {
    /// The control's objects; none served is an error naming the Given step that serves them.
    pub(crate) fn control_objects(&self) -> Result<Vec<ControlObject>, String> {
        if self.objects.is_empty() {
            return Err(
                "no control objects were set up: add `Given \"HOST\" serves a control \
                        object of each kind` first"
                    .to_owned(),
            );
        }
        Ok(self.objects.clone())
    }

    /// The client's exchanges for `object`, in order.
    pub(crate) fn exchanges_for(&self, object: &ControlObject) -> Vec<&Exchange> {
        self.exchanges
            .iter()
            .filter(|e| e.url.ends_with(&object.served.target))
            .collect()
    }

    /// The origin's requests for `object` since the scenario began.
    pub(crate) fn origin_requests_for_object(&self, object: &ControlObject) -> Vec<OriginRequest> {
        self.lab
            .origin()
            .journal()
            .requests_since(self.origin_mark, &object.served.target)
    }

    /// Judges a control over its objects from what the check saw of each one the client asked
    /// for (`(kind, policed)`), and keeps which kinds held for the verdict: it holds when any
    /// kind was policed. `policing` says what the check looks for.
    pub(crate) fn hold_control_on(
        &mut self,
        property: Property,
        seen: &[(ObjectKind, bool)],
        policing: &str,
    ) -> Result<(), String> {
        let kinds = kinds_policed(property, seen);
        let problem = control_problem(kinds.as_ref(), policing);
        self.kinds_policed = kinds;
        match problem {
            Some((expected, actual)) => Err(self.failure(expected, actual)),
            None => Ok(()),
        }
    }
}
