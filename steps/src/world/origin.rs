//! The World's helpers for the origin: what the scenario makes it serve and which of its
//! journaled requests are the scenario's.

use mock_servers::{OriginRequest, UrlFamily};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::parameters::Resource;
use crate::world::{ConformanceWorld, Served};

impl ConformanceWorld {
    /// Answers GET `target` (on every lab host) with `response` from the scripted endpoints.
    pub(crate) async fn mount(&self, target: &str, response: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path(target))
            .respond_with(response)
            .mount(self.lab.scripted().server())
            .await;
    }

    /// Makes `page` the scenario's served page at `host` + `target`.
    pub(crate) async fn serve_page(
        &mut self,
        host: String,
        target: String,
        page: ResponseTemplate,
    ) {
        self.mount(&target, page).await;
        self.served = Some(Served {
            resource: Resource::Page,
            host,
            target,
            size: 0,
            payload: None,
        });
    }
}

impl ConformanceWorld {
    /// Every request of this scenario the origin saw (all its paths carry the token).
    /// Every origin request of this scenario: its token in the target, or its scenario header
    /// (realistic URLs, such as a file stream's GUID, do not carry the token).
    pub(crate) fn scenario_origin_requests(&self) -> Vec<OriginRequest> {
        let found: Vec<OriginRequest> = self
            .lab
            .origin()
            .journal()
            .requests_containing("")
            .into_iter()
            .filter(|r| {
                r.target.contains(&self.token)
                    || r.header(mock_servers::SCENARIO_HEADER) == Some(self.token.as_str())
            })
            .collect();
        if !found.is_empty() {
            return found;
        }
        // A real URL (no token in it) whose scenario header the proxy stripped: the requests
        // since the scenario began for the URLs its clients asked for, which are its own.
        let targets: Vec<String> = self
            .exchanges
            .iter()
            .filter_map(|e| reqwest::Url::parse(&e.url).ok())
            .map(|url| crate::client::origin_target(&url))
            .collect();
        self.lab
            .origin()
            .journal()
            .requests_since(self.origin_mark, "")
            .into_iter()
            .filter(|r| {
                r.header(mock_servers::SCENARIO_HEADER).is_none() && targets.contains(&r.target)
            })
            .collect()
    }

    /// The origin's requests for the served URL since the scenario began (a URL every client
    /// uses alike, such as the trust list, is served to scenarios that run alone: `@serial`).
    pub(crate) fn origin_requests(&self) -> Result<Vec<OriginRequest>, String> {
        let served = self.served()?;
        Ok(self
            .lab
            .origin()
            .journal()
            .requests_since(self.origin_mark, &served.target))
    }
}

impl ConformanceWorld {
    /// Serves a file of `size` bytes under a fresh URL of `family` on `host`, as the
    /// origin's catalog mints it for this scenario's client.
    pub(crate) fn serve_from_catalog(
        &mut self,
        host: String,
        family: UrlFamily,
        size: u64,
    ) -> Result<(), String> {
        let catalog = self.lab.origin().files();
        let target = catalog
            .mint(host.as_str(), family, size, &self.token)
            .map_err(|e| format!("the origin cannot serve a {family:?} file: {e}"))?;
        let file = catalog
            .file(&host, &target)
            .ok_or_else(|| format!("the origin did not register {target}"))?;
        self.served = Some(Served {
            resource: Resource::File,
            host,
            target,
            size,
            payload: Some(file.payload()),
        });
        Ok(())
    }
}
