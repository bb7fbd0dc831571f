//! Categorisation: what the lab's categorisation service tells the proxy about a host, and
//! which hosts the proxy asked it about for the scenario's requests.
//!
//! Verdicts and lookups are per host and scenario (the proxy passes the scenario header along
//! with the host), so a host called blocked here stays allowed for concurrent scenarios.

use conformance_model::Property;
use cucumber::{given, then};

use crate::world::ConformanceWorld;

#[given(expr = "the categorisation service calls {string} blocked")]
async fn the_service_calls_a_host_blocked(
    world: &mut ConformanceWorld,
    host: String,
) -> Result<(), String> {
    let host = world.resolve_host(&host)?;
    world.lab.categorizer().block(&host, &world.token);
    Ok(())
}

#[then("the categorisation service was not asked about that host")]
async fn the_service_was_not_asked(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Categorize));
    let host = world.host()?;
    // The absence only counts if the requests went through the proxy at all; the proxy logs
    // a request after its access checks, so every lookup it made is journaled by then.
    world.every_request_reached_the_proxy().await?;
    if !world
        .categoriser_observable("the categorisation service was not asked about that host")
        .await
    {
        return Ok(());
    }
    if let Some(lookup) = world.categorisation_lookups_of(&host).first() {
        return Err(world.failure(
            format!("no categorisation lookup of {host}"),
            lookup.to_string(),
        ));
    }
    Ok(())
}

#[then("the categorisation service was asked about that host")]
async fn the_service_was_asked(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Categorize));
    if world.refused_as_policing().await?.is_some() {
        return Ok(());
    }
    let host = world.host()?;
    world.every_request_reached_the_proxy().await?;
    if !world
        .categoriser_observable("the categorisation service was asked about that host")
        .await
    {
        return Ok(());
    }
    if world.categorisation_lookups_of(&host).is_empty() {
        return Err(world.failure(
            format!("a categorisation lookup of {host} for this scenario"),
            "none",
        ));
    }
    Ok(())
}
