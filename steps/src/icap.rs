//! ICAP adaptation: what the ICAP recorder saw for the scenario's requests.

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

#[then(expr = "the ICAP service adapted that {resource}")]
async fn the_icap_service_adapted(
    world: &mut ConformanceWorld,
    _resource: Resource,
) -> Result<(), String> {
    world.checks(Some(Property::Icap));
    if world.refused_as_policing().await?.is_some() {
        return Ok(());
    }
    if let Err(unseen) = world.lab.observe(Vantage::Icap).await {
        world.not_observable(
            unseen.vantage,
            "the ICAP service adapted that request",
            unseen.why,
        );
        return Ok(());
    }
    let calls = world.lab.icap().calls_for(&world.token);
    if !adapted(&calls) {
        let seen: Vec<String> = calls.iter().map(ToString::to_string).collect();
        return Err(world.failure("a REQMOD or a RESPMOD call", format!("{seen:?}")));
    }
    Ok(())
}

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
    fn reqmod_or_respmod_alone_is_adaptation_and_nothing_is_not() {
        assert!(adapted(&[call("REQMOD"), call("RESPMOD")]));
        assert!(adapted(&[call("RESPMOD")]));
        assert!(adapted(&[call("REQMOD")]));
        assert!(!adapted(&[]));
        assert!(!adapted(&[call("OPTIONS")]));
    }
}
