//! ICAP adaptation: what the ICAP recorder saw for the scenario's requests — none for an update
//! file, and at least one call for a control's objects of each kind.

use conformance_lab::Vantage;
use conformance_model::Property;
use cucumber::then;
use mock_servers::IcapCall;

use crate::parameters::Resource;
use crate::world::ConformanceWorld;

#[then(expr = "the ICAP service saw no request for that {resource}")]
async fn the_icap_service_saw_nothing(
    world: &mut ConformanceWorld,
    _resource: Resource,
) -> Result<(), String> {
    world.checks(Some(Property::Icap));
    // The absence only counts if the request went through the proxy at all, and (external
    // mode) if the proxy calls the recorder at all.
    world.every_request_reached_the_proxy().await?;
    if let Err(unseen) = world.lab.observe(Vantage::Icap).await {
        world.not_observable(
            unseen.vantage,
            "the ICAP service saw no request",
            unseen.why,
        );
        return Ok(());
    }
    let calls = world.lab.icap().calls_for(&world.token);
    if let Some(call) = calls.first() {
        return Err(world.failure("no REQMOD or RESPMOD", call.to_string()));
    }
    Ok(())
}

#[then("the ICAP service adapted at least one of them")]
async fn the_icap_service_adapted_at_least_one_of_them(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    world.checks(Some(Property::Icap));
    if let Err(unseen) = world.lab.observe(Vantage::Icap).await {
        world.not_observable(
            unseen.vantage,
            "the ICAP service adapted at least one of them",
            unseen.why,
        );
        return Ok(());
    }
    let mut seen = Vec::new();
    for object in world.control_objects()? {
        let Some(exchange) = world.exchanges_for(&object).last().copied() else {
            continue;
        };
        let target = object.served.target.as_str();
        let refused = world
            .refusal_as_policing(exchange, |fact| {
                fact.url.ends_with(target) || fact.is_connect()
            })
            .await?
            .is_some();
        let calls = world.lab.icap().calls_for(target);
        seen.push((object.kind, refused || adapted(&calls)));
    }
    world.hold_control_on(Property::Icap, &seen, "a REQMOD or a RESPMOD call")
}
proven_by!(
    the_icap_service_adapted_at_least_one_of_them,
    "a_control_holds_on_the_kinds_adapted_and_fails_when_none_was"
);

/// Whether the proxy sent the request or its response to adaptation: a REQMOD (a DLP-style
/// service) or a RESPMOD (an antivirus) is each proof of policing; the control needs one, not
/// both. (The bypass checks stay strict: any call for an update request is a failure.)
fn adapted(calls: &[IcapCall]) -> bool {
    calls
        .iter()
        .any(|c| c.method == "REQMOD" || c.method == "RESPMOD")
}

#[cfg(test)]
mod tests {
    use mock_servers::IcapCall;

    use super::adapted;

    fn call(method: &str) -> IcapCall {
        IcapCall {
            method: method.into(),
            http_method: "GET".into(),
            http_uri: "http://downloads.example.net/s1/page".into(),
            http_headers: Vec::new(),
            scanned_bytes: 0,
        }
    }

    #[test]
    fn a_control_holds_on_the_kinds_adapted_and_fails_when_none_was() {
        use crate::control_objects::{control_problem, kinds_policed};
        use conformance_model::{ObjectKind, Property};
        // An antivirus that scans programs and archives only: RESPMOD for those two kinds.
        let calls = |kind: ObjectKind| match kind {
            ObjectKind::Executable | ObjectKind::Archive => vec![call("RESPMOD")],
            ObjectKind::Page | ObjectKind::UpdateLikeFile => vec![call("OPTIONS")],
        };
        let seen: Vec<_> = ObjectKind::ALL
            .into_iter()
            .map(|kind| (kind, adapted(&calls(kind))))
            .collect();
        let held = kinds_policed(Property::Icap, &seen);
        assert!(control_problem(held.as_ref(), "a call").is_none());
        assert_eq!(
            held.unwrap().to_string(),
            "control held on: executable, archive (not policed: page, update-like file)"
        );
        // A proxy that adapts nothing, and a control that asked for nothing, both fail.
        let nothing: Vec<_> = ObjectKind::ALL
            .into_iter()
            .map(|kind| (kind, adapted(&[])))
            .collect();
        let none = kinds_policed(Property::Icap, &nothing);
        assert!(control_problem(none.as_ref(), "a call").is_some());
        assert!(control_problem(kinds_policed(Property::Icap, &[]).as_ref(), "a call").is_some());
    }

    #[test]
    fn reqmod_or_respmod_alone_is_adaptation_and_nothing_is_not() {
        assert!(adapted(&[call("REQMOD"), call("RESPMOD")]));
        assert!(adapted(&[call("RESPMOD")]));
        assert!(adapted(&[call("REQMOD")]));
        assert!(!adapted(&[]));
        assert!(!adapted(&[call("OPTIONS")]));
    }
}
