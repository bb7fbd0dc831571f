//! What the proxy did with the scenario's requests: whether it asked for credentials and
//! whether it answered from its cache, judged from the client, the origin and the access log.

use conformance_lab::AccessLogLine;
use cucumber::then;

use std::time::Duration;

use tokio::time::Instant;

use crate::client::Outcome;

const ACCESS_LOG_GRACE: Duration = Duration::from_secs(3);
use crate::world::ConformanceWorld;

impl ConformanceWorld {
    /// The scenario's access-log lines; an empty log is a failure, never a vacuous pass.
    /// Squid writes a tunnel's line when the tunnel closes, just after the client is done, so
    /// this polls (bounded) until there is a line per client exchange.
    pub(crate) async fn proxy_log(&self) -> Result<Vec<AccessLogLine>, String> {
        let expected = self.requests_sent();
        self.proxy_log_until(|lines| lines.len() >= expected).await
    }

    /// The scenario's access-log lines once `complete` holds for them (or the grace period
    /// is over): Squid logs a bumped request and its CONNECT as each of them ends.
    pub(crate) async fn proxy_log_until(
        &self,
        complete: impl Fn(&[AccessLogLine]) -> bool,
    ) -> Result<Vec<AccessLogLine>, String> {
        let deadline = Instant::now() + ACCESS_LOG_GRACE;
        let mut lines = self.lab.access_log().lines_for(&self.token);
        while !complete(&lines) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
            lines = self.lab.access_log().lines_for(&self.token);
        }
        if lines.is_empty() {
            return Err(self.failure(
                "access-log lines for this scenario",
                "none: the requests never reached the proxy",
            ));
        }
        Ok(lines)
    }
}

#[then(expr = "the client receives status {int}")]
async fn the_client_receives_status(
    world: &mut ConformanceWorld,
    status: u16,
) -> Result<(), String> {
    let exchange = world.last_exchange()?;
    if exchange.status() != Some(status) {
        return Err(world.failure(format!("status {status}"), exchange.to_string()));
    }
    Ok(())
}

#[then("the proxy did not ask for credentials")]
async fn the_proxy_did_not_ask_for_credentials(world: &mut ConformanceWorld) -> Result<(), String> {
    if world.exchanges.is_empty() {
        return Err(world.failure("at least one request", "none was made"));
    }
    if let Some(refused) = world.exchanges.iter().find(|e| e.status() == Some(407)) {
        return Err(world.failure("no 407 Proxy Authentication Required", refused.to_string()));
    }
    if let Some(failed) = world
        .exchanges
        .iter()
        .find(|e| matches!(e.outcome, Outcome::Failed(_)))
    {
        return Err(world.failure("every request answered", failed.to_string()));
    }
    let log = world.proxy_log().await?;
    if let Some(line) = log
        .iter()
        .find(|l| l.http_status() == "407" || l.user() != "-")
    {
        return Err(world.failure(
            "access-log lines with user `-` and no TCP_DENIED/407",
            line.to_string(),
        ));
    }
    let origin = world.scenario_origin_requests();
    if origin.is_empty() {
        return Err(world.failure("the requests to reach the origin", "the origin saw none"));
    }
    if let Some(leak) = origin
        .iter()
        .find(|r| r.header("proxy-authorization").is_some())
    {
        return Err(world.failure("no Proxy-Authorization at the origin", leak.to_string()));
    }
    Ok(())
}

#[then("the proxy asked for credentials")]
async fn the_proxy_asked_for_credentials(world: &mut ConformanceWorld) -> Result<(), String> {
    let exchange = world.last_exchange()?;
    let challenged = match &exchange.outcome {
        Outcome::Response(r) => {
            r.status == 407
                && r.header("proxy-authenticate")
                    .is_some_and(|v| v.starts_with("Basic"))
        }
        Outcome::TunnelRefused { status, .. } => *status == Some(407),
        Outcome::Failed(_) => false,
    };
    if !challenged {
        return Err(world.failure("407 with Proxy-Authenticate: Basic", exchange.to_string()));
    }
    let log = world.proxy_log().await?;
    if !log
        .iter()
        .any(|l| l.squid_status() == "TCP_DENIED" && l.http_status() == "407")
    {
        return Err(world.failure("a TCP_DENIED/407 access-log line", "none"));
    }
    if !world.origin_requests()?.is_empty() {
        return Err(world.failure("nothing at the origin", "the origin saw the request"));
    }
    Ok(())
}

#[then("the proxy denied the request")]
async fn the_proxy_denied_the_request(world: &mut ConformanceWorld) -> Result<(), String> {
    let exchange = world.last_exchange()?;
    let refused = match &exchange.outcome {
        Outcome::Response(r) => r.status == 403,
        Outcome::TunnelRefused { status, .. } => *status != Some(407),
        Outcome::Failed(_) => false,
    };
    if !refused {
        return Err(world.failure("403 Forbidden (or a refused CONNECT)", exchange.to_string()));
    }
    // A denied CONNECT that the policy bumps is logged TCP_DENIED/200 and its 403 is served
    // inside the bumped connection (NONE_NONE/403): judge the access-denied error code.
    let denied = |line: &AccessLogLine| {
        line.squid_status() == "TCP_DENIED"
            || line
                .value("err")
                .is_some_and(|e| e.starts_with("ERR_ACCESS_DENIED"))
    };
    let log = world
        .proxy_log_until(|lines| lines.iter().any(denied))
        .await?;
    if !log.iter().any(denied) {
        return Err(world.failure(
            "an access-log line with TCP_DENIED or err=ERR_ACCESS_DENIED",
            "none",
        ));
    }
    Ok(())
}

#[then("no response came from the proxy's cache")]
async fn no_response_came_from_the_cache(world: &mut ConformanceWorld) -> Result<(), String> {
    if world.exchanges.len() < 2 {
        return Err(world.failure(
            "at least two requests for the same URL",
            format!("{}", world.exchanges.len()),
        ));
    }
    for exchange in &world.exchanges {
        let Some(response) = exchange.response() else {
            return Err(world.failure("a response", exchange.to_string()));
        };
        if let Some(signal) = cache_signal(exchange, response) {
            return Err(world.failure(
                "a response fresh from the origin",
                format!("{signal}: {exchange}"),
            ));
        }
    }
    let log = world.proxy_log().await?;
    if let Some(hit) = log.iter().find(|l| l.is_hit()) {
        return Err(world.failure("no *_HIT in the access log", hit.to_string()));
    }
    let at_origin = world.origin_requests()?.len();
    if at_origin != world.exchanges.len() {
        return Err(world.failure(
            format!(
                "{} requests at the origin (one per client request)",
                world.exchanges.len()
            ),
            format!("{at_origin}"),
        ));
    }
    Ok(())
}

#[then("the second response came from the proxy's cache")]
async fn the_second_response_came_from_the_cache(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    let Some(second) = world.exchanges.get(1) else {
        return Err(world.failure("two requests", format!("{}", world.exchanges.len())));
    };
    let Some(response) = second.response() else {
        return Err(world.failure("a cached response", second.to_string()));
    };
    if cache_signal(second, response).is_none() {
        return Err(world.failure(
            "a cache hit (Age, X-Cache: HIT or another client's echoed token)",
            second.to_string(),
        ));
    }
    if !world.proxy_log().await?.iter().any(AccessLogLine::is_hit) {
        return Err(world.failure("a *_HIT access-log line", "none"));
    }
    Ok(())
}

/// Why a response looks like it came from a cache, if it does.
fn cache_signal(
    exchange: &crate::client::Exchange,
    response: &crate::client::ClientResponse,
) -> Option<String> {
    if let Some(age) = response.header("age") {
        return Some(format!("Age: {age}"));
    }
    for name in ["x-cache", "cache-status"] {
        if let Some(value) = response
            .header(name)
            .filter(|v| v.to_ascii_uppercase().contains("HIT"))
        {
            return Some(format!("{name}: {value}"));
        }
    }
    match response.header(mock_servers::ECHO_TOKEN_HEADER) {
        Some(echo) if echo == exchange.request_token => None,
        Some(echo) => Some(format!("echoed token {echo} belongs to another request")),
        None => Some("the origin's echoed token is missing".to_owned()),
    }
}
