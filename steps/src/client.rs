//! Update clients in the suite's words: what a client asks for (method, scheme, credentials,
//! range, headers) for the file or page a scenario serves, sent through the proxy under test
//! with the client crate, and the When steps that make plain requests.

use conformance_client::{ClientProfile, Credentials, Scheme};
use cucumber::when;

use crate::parameters::{self, Resource};
use crate::world::{ConformanceWorld, Served};

/// What a client asks for, besides the URL of the served file or page.
#[derive(Debug, Clone)]
pub(crate) struct Ask {
    pub method: reqwest::Method,
    pub scheme: Scheme,
    pub credentials: Credentials,
    pub range: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Stop reading the body after this many bytes (default: everything asked for, with a
    /// margin).
    pub read_limit: Option<u64>,
}

impl Ask {
    /// A plain GET with the User-Agent of the component it stands for
    /// ([`ClientProfile::standing_for`]: BITS without credentials, a browser with them).
    pub(crate) fn get(scheme: impl Into<Scheme>, credentials: impl Into<Credentials>) -> Self {
        let credentials = credentials.into();
        Self {
            method: reqwest::Method::GET,
            scheme: scheme.into(),
            credentials,
            range: None,
            extra_headers: vec![ClientProfile::standing_for(credentials).user_agent_header()],
            body: None,
            read_limit: None,
        }
    }

    /// A plain GET to `host` as [`Ask::get`], except that on a control host the client is a
    /// user's browser, with or without credentials: a control host stands for the ordinary
    /// traffic the proxy polices, and an update agent's User-Agent there would make a policy
    /// that keys its exemption on the agent (a hole the look-alikes, requested as BITS, show)
    /// fail its control instead of its property.
    pub(crate) fn to_host(
        host: &str,
        scheme: impl Into<Scheme>,
        credentials: impl Into<Credentials>,
    ) -> Self {
        let mut ask = Self::get(scheme, credentials);
        if conformance_model::CONTROL_HOSTS.contains(&host) {
            ask.extra_headers = vec![ClientProfile::Browser.user_agent_header()];
        }
        ask
    }

    /// A BITS request: no credentials (the agent runs as SYSTEM), BITS's own headers.
    pub(crate) fn bits(scheme: impl Into<Scheme>) -> Self {
        Self::by(ClientProfile::Bits, scheme)
    }

    /// A request of `agent`: no credentials (update components run as SYSTEM), its
    /// User-Agent and the headers it always sends.
    pub(crate) fn by(agent: ClientProfile, scheme: impl Into<Scheme>) -> Self {
        let mut ask = Self::get(scheme, Credentials::Without);
        ask.extra_headers = agent.headers();
        ask
    }

    pub(crate) fn with_range(mut self, range: impl Into<String>) -> Self {
        self.range = Some(range.into());
        self
    }

    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.to_owned(), value.into()));
        self
    }

    /// Reads only the first `bytes` of the body, then drops the connection.
    pub(crate) fn reading_only(mut self, bytes: u64) -> Self {
        self.read_limit = Some(bytes);
        self
    }

    /// HEAD, asking for the identity encoding as BITS does (the size must be the file's).
    pub(crate) fn head(mut self) -> Self {
        self.method = reqwest::Method::HEAD;
        self.with_header("accept-encoding", "identity")
    }
}

/// The request target (path and query) the origin sees for `url`.
pub(crate) fn origin_target(url: &reqwest::Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

#[when(expr = "a client {credentials} requests that {resource} over {scheme}")]
async fn a_client_requests(
    world: &mut ConformanceWorld,
    credentials: parameters::Credentials,
    resource: Resource,
    scheme: parameters::Scheme,
) -> Result<(), String> {
    let served = world.served()?;
    if served.resource != resource {
        return Err(format!(
            "this scenario set up a {:?}, not a {resource:?}",
            served.resource
        ));
    }
    let ask = Ask::to_host(&served.host, scheme, credentials);
    world.fetch(ask).await?;
    Ok(())
}

#[when("the client follows the first link of that page")]
async fn the_client_follows_the_first_link(world: &mut ConformanceWorld) -> Result<(), String> {
    let link = world
        .linked
        .first()
        .cloned()
        .ok_or("the page links nothing: serve a page that links objects first")?;
    let last = world.last_exchange()?;
    let served = Served {
        resource: Resource::Page,
        host: world.served()?.host.clone(),
        target: link,
        size: 0,
        payload: None,
    };
    // The same client: its User-Agent is the one it sent for the page.
    let mut ask = Ask::get(last.scheme, last.credentials);
    if let Some(agent) = last
        .extra_headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
    {
        ask.extra_headers = vec![agent.clone()];
    }
    let exchange = world.fetch_served(&served, ask).await;
    world.exchanges.push(exchange);
    Ok(())
}

#[when("the same client requests it again")]
async fn the_same_client_requests_again(world: &mut ConformanceWorld) -> Result<(), String> {
    let last = world.last_exchange()?;
    let mut ask = Ask::get(last.scheme, last.credentials);
    ask.range = last.range.clone();
    ask.extra_headers = last.extra_headers.clone();
    world.fetch(ask).await?;
    Ok(())
}
