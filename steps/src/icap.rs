//! ICAP adaptation: what the ICAP recorder saw for the scenario's requests.

use cucumber::then;

use crate::parameters::Resource;
use crate::world::ConformanceWorld;

#[then(expr = "the ICAP service saw no request for that {resource}")]
async fn the_icap_service_saw_nothing(
    world: &mut ConformanceWorld,
    _resource: Resource,
) -> Result<(), String> {
    // The absence only counts if the request went through the proxy at all.
    world.proxy_log().await?;
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
    let calls = world.lab.icap().calls_for(&world.token);
    for method in ["REQMOD", "RESPMOD"] {
        if !calls.iter().any(|c| c.method == method) {
            let seen: Vec<String> = calls.iter().map(ToString::to_string).collect();
            return Err(world.failure(format!("a {method} call"), format!("{seen:?}")));
        }
    }
    Ok(())
}
