//! ICAP adaptation: what the ICAP recorder saw for the scenario's requests.

use conformance_lab::Vantage;
use conformance_spec::Property;
use cucumber::then;

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
    world.proxy_log().await?;
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

#[then(expr = "the ICAP service saw a REQMOD and a RESPMOD for that {resource}")]
async fn the_icap_service_adapted(
    world: &mut ConformanceWorld,
    _resource: Resource,
) -> Result<(), String> {
    world.checks(Some(Property::Icap));
    if let Err(unseen) = world.lab.observe(Vantage::Icap).await {
        world.not_observable(
            unseen.vantage,
            "the ICAP service saw a REQMOD and a RESPMOD",
            unseen.why,
        );
        return Ok(());
    }
    let calls = world.lab.icap().calls_for(&world.token);
    for method in ["REQMOD", "RESPMOD"] {
        if !calls.iter().any(|c| c.method == method) {
            let seen: Vec<String> = calls.iter().map(ToString::to_string).collect();
            return Err(world.failure(format!("a {method} call"), format!("{seen:?}")));
        }
    }
    Ok(())
}
