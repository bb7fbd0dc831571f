//! The origin side of a scenario: what it serves (generated update files under per-client
//! names, scripted cacheable pages) and what it saw (request counts, Range headers, bytes
//! sent), and the integrity of what the client received.

use cucumber::{given, then};
use mock_servers::{OriginRequest, UpdateOrigin};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::parameters::{Resource, Size};
use crate::world::{ConformanceWorld, Served};

pub(crate) fn known_host(host: &str) -> Result<(), String> {
    if conformance_lab::is_lab_host(host) {
        Ok(())
    } else {
        Err(format!(
            "{host} is not a lab host; the lab serves: {}",
            conformance_lab::all_lab_host_names().join(", ")
        ))
    }
}

#[given("the lab proxy enforces the policy under test")]
async fn the_lab_proxy_enforces_the_policy(world: &mut ConformanceWorld) -> Result<(), String> {
    let policy = world.lab.policy();
    if policy.text().trim().is_empty() {
        return Err(format!(
            "the lab runs an empty policy ({})",
            policy.path().display()
        ));
    }
    Ok(())
}

#[given(expr = "{string} serves a {size} update file under a per-client name")]
async fn serves_an_update_file(
    world: &mut ConformanceWorld,
    host: String,
    size: Size,
) -> Result<(), String> {
    known_host(&host)?;
    let client_token = format!("{:016x}", rand::random::<u64>());
    let name = format!(
        "{}/windows10.0-kb5031356-x64_{client_token}.psf",
        world.token
    );
    world.served = Some(Served {
        resource: Resource::File,
        host,
        target: UpdateOrigin::update_path(size.0, &name),
        size: size.0,
    });
    Ok(())
}

#[given(expr = "{string} serves a cacheable page")]
async fn serves_a_cacheable_page(world: &mut ConformanceWorld, host: String) -> Result<(), String> {
    known_host(&host)?;
    let target = format!("/pages/{}/index.html", world.token);
    Mock::given(method("GET"))
        .and(path(target.clone()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("cache-control", "public, max-age=3600")
                .insert_header("last-modified", "Tue, 10 Oct 2023 17:00:00 GMT")
                .insert_header("content-type", "text/html")
                .set_body_string(format!(
                    "<html><body>control page {}</body></html>",
                    world.token
                )),
        )
        .mount(world.lab.scripted().server())
        .await;
    world.served = Some(Served {
        resource: Resource::Page,
        host,
        target,
        size: 0,
    });
    Ok(())
}

impl ConformanceWorld {
    /// Every request of this scenario the origin saw (all its paths carry the token).
    pub(crate) fn scenario_origin_requests(&self) -> Vec<OriginRequest> {
        self.lab.origin().journal().requests_containing(&self.token)
    }

    pub(crate) fn origin_requests(&self) -> Result<Vec<OriginRequest>, String> {
        Ok(self
            .lab
            .origin()
            .journal()
            .requests_containing(&self.served()?.target))
    }
}

#[then(expr = "the origin received {int} request(s) for that {resource}")]
async fn the_origin_received_n_requests(
    world: &mut ConformanceWorld,
    count: usize,
    _resource: Resource,
) -> Result<(), String> {
    let requests = world.origin_requests()?;
    if requests.len() != count {
        return Err(world.failure(
            format!("{count} request(s) at the origin"),
            format!("{} request(s)", requests.len()),
        ));
    }
    Ok(())
}

#[then("every response carried the file's exact bytes")]
async fn every_response_carried_the_exact_bytes(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    let served = world.served()?;
    if world.exchanges.is_empty() {
        return Err(world.failure("at least one download", "none was made"));
    }
    for exchange in &world.exchanges {
        let whole = exchange
            .response()
            .filter(|r| r.status == 200 && r.body_len == served.size && r.body_mismatch.is_none());
        if whole.is_none() {
            return Err(world.failure(
                format!("200 with the whole {}-byte file", served.size),
                exchange.to_string(),
            ));
        }
    }
    Ok(())
}
